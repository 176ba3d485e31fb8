// Early-return helpers for absl::Status / absl::StatusOr (Debian's Abseil has neither).
#ifndef RENKEI_COMMON_STATUS_MACROS_H_
#define RENKEI_COMMON_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define RENKEI_RETURN_IF_ERROR(expr)               \
  do {                                             \
    ::absl::Status renkei_status_ = (expr);        \
    if (!renkei_status_.ok()) return renkei_status_; \
  } while (0)

#define RENKEI_CONCAT_INNER_(a, b) a##b
#define RENKEI_CONCAT_(a, b) RENKEI_CONCAT_INNER_(a, b)

// RENKEI_ASSIGN_OR_RETURN(auto x, F()); declares x, or returns F()'s error.
#define RENKEI_ASSIGN_OR_RETURN(lhs, expr) \
  RENKEI_ASSIGN_OR_RETURN_IMPL_(RENKEI_CONCAT_(renkei_statusor_, __LINE__), lhs, expr)

#define RENKEI_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                  \
  if (!statusor.ok()) return statusor.status();            \
  lhs = std::move(statusor).value()

#endif  // RENKEI_COMMON_STATUS_MACROS_H_
