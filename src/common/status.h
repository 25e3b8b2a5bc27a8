// Status and StatusOr: the one error vocabulary of kuajing.
//
// Expected failures (bad input from an enterprise, a duplicate, a database that is down) are
// values, not exceptions. A Status carries a canonical code that tells the caller what to do, and a
// message in sentences. Business rejections that go back to a declarant as a receipt are not
// Statuses: they are receipts with the standard's negative returnStatus (see clearance/).
//
// Thread safety: values; safe to copy between threads.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace kuajing {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // the input is wrong; do not retry the same input
  kNotFound,            // the thing asked for does not exist
  kAlreadyExists,       // a unique key is taken
  kFailedPrecondition,  // the state does not allow it now
  kResourceExhausted,   // a limit was hit; retry with less
  kUnavailable,         // transient (I/O, busy database); retry may succeed
  kInternal,            // a bug or corrupted data; do not retry
  kUnauthenticated,     // no valid credentials
  kPermissionDenied,    // valid credentials, not allowed to do this
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
inline Status Unauthenticated(std::string m) {
  return {StatusCode::kUnauthenticated, std::move(m)};
}
inline Status PermissionDenied(std::string m) {
  return {StatusCode::kPermissionDenied, std::move(m)};
}
inline Status ResourceExhausted(std::string m) {
  return {StatusCode::kResourceExhausted, std::move(m)};
}
inline Status FailedPrecondition(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m)};
}

// Either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design, like absl
  StatusOr(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).ok() && "StatusOr built from an OK status");
  }
  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }

 private:
  std::variant<T, Status> v_;
};

#define KJ_RETURN_IF_ERROR(expr)             \
  do {                                       \
    ::kuajing::Status kj_status_ = (expr);   \
    if (!kj_status_.ok()) return kj_status_; \
  } while (0)

}  // namespace kuajing
