#include "common/rocksdb_options.h"

#include <cstdarg>
#include <cstdio>
#include <memory>
#include <string>

#include "common/log.h"
#include "rocksdb/env.h"

namespace renkei {
namespace {

class StructuredLogger : public rocksdb::Logger {
 public:
  explicit StructuredLogger(absl::string_view component)
      : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL), component_(component) {}

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap);
  }
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (level < GetInfoLogLevel()) return;
    char line[1024];
    vsnprintf(line, sizeof(line), format, ap);
    Log(level >= rocksdb::InfoLogLevel::ERROR_LEVEL ? LogLevel::kError : LogLevel::kWarning,
        component_, line);
  }

 private:
  const std::string component_;
};

}  // namespace

rocksdb::Options StoreOptions(absl::string_view component) {
  rocksdb::Options options;
  options.info_log = std::make_shared<StructuredLogger>(component);
  options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  return options;
}

}  // namespace renkei
