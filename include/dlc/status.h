//===- status.h - Error values for the dlc API ------------------*- C++ -*-===//
//
// Errors are values: every fallible call returns a Status or an Expected<T>. This header
// has no LLVM, MLIR or ONNX dependency; the runtime and the compiler API share it.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_STATUS_H
#define DLC_STATUS_H

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace dlc {

/// Success, or an error with a one-line human-readable message.
class Status {
public:
  Status() = default;
  static Status ok() { return Status(); }
  static Status error(std::string message) {
    Status s;
    s.message_ = std::move(message);
    return s;
  }
  bool isOk() const { return !message_.has_value(); }
  explicit operator bool() const { return isOk(); }
  /// The error message; empty on success.
  const std::string &message() const {
    static const std::string empty;
    return message_ ? *message_ : empty;
  }

private:
  std::optional<std::string> message_;
};

/// A value of type T, or an error Status.
template <typename T> class Expected {
public:
  Expected(T value) : v_(std::move(value)) {}
  Expected(Status error) : v_(std::move(error)) {}
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T &value() & { return std::get<0>(v_); }
  T &&value() && { return std::get<0>(std::move(v_)); }
  const T &value() const & { return std::get<0>(v_); }
  T *operator->() { return &std::get<0>(v_); }
  T &operator*() & { return std::get<0>(v_); }
  const Status &status() const {
    static const Status okStatus;
    return ok() ? okStatus : std::get<1>(v_);
  }
  const std::string &message() const { return status().message(); }

private:
  std::variant<T, Status> v_;
};

} // namespace dlc

#endif // DLC_STATUS_H
