// The RocksDB options every Renkei store starts from.
#ifndef RENKEI_COMMON_ROCKSDB_OPTIONS_H_
#define RENKEI_COMMON_ROCKSDB_OPTIONS_H_

#include "absl/strings/string_view.h"
#include "rocksdb/options.h"

namespace renkei {

// Options whose info log goes to the process's structured log (warnings and errors, as
// component `component`) instead of a LOG file in the store's directory. A store's own disk
// running full must not take its diagnostics with it: Debian's RocksDB asserts, and the
// process aborts, when it writes to a log file after a failed write.
rocksdb::Options StoreOptions(absl::string_view component);

}  // namespace renkei

#endif  // RENKEI_COMMON_ROCKSDB_OPTIONS_H_
