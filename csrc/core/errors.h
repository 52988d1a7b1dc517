// Typed errors: ValueError / TypeError on the Python side (see python/module.cpp).
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/shape.h"

namespace kcore {

struct ValueError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};
struct TypeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// An op with no kernel for the tensors' device: NotImplementedError in Python.
struct NotImplementedError : std::logic_error {
  using std::logic_error::logic_error;
};
// An allocation that cannot be satisfied: MemoryError in Python (the message names the op and size).
struct MemoryError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// A device that cannot be used (extension not loaded, CUDA runtime failure): RuntimeError.
struct DeviceError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

inline std::string shape_str(const Shape& s) {
  std::ostringstream o;
  o << "(";
  for (size_t i = 0; i < s.size(); ++i) o << (i ? ", " : "") << s[i];
  if (s.size() == 1) o << ",";
  o << ")";
  return o.str();
}

#define KCORE_CHECK(cond, ...) \
  do { \
    if (!(cond)) { \
      std::ostringstream kc_msg_; \
      kc_msg_ << __VA_ARGS__; \
      throw ::kcore::ValueError(kc_msg_.str()); \
    } \
  } while (0)

}  // namespace kcore
