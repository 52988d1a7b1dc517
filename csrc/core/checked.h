// Overflow-checked size arithmetic. Every element count, stride, byte size and output-shape
// computation of the engine goes through these helpers: an overflow is a ValueError naming the
// running op and what was being sized, never a wrapped-around size (a short buffer written past).
#pragma once
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "core/errors.h"

namespace kcore {

// The op the calling thread is running, as the bindings name it ("kcore" when none is set);
// size and memory errors raised below the op's own checks are prefixed with it.
const char* current_op();

// Names the running op for the lifetime of the outermost scope: a scope opened while another op
// runs (an entry point called from inside another, as reduce_backward calls broadcast_to) does
// nothing, so one top-level call costs one scope and errors name the op the caller called. When an
// exception leaves the outermost scope, that op is recorded as failed_op() for the thread.
class OpScope {
 public:
  explicit OpScope(const char* op);
  ~OpScope();
  OpScope(const OpScope&) = delete;
  OpScope& operator=(const OpScope&) = delete;

 private:
  const char* op_;
  bool outermost_;
  int uncaught_ = 0;
};

// The op an exception last escaped from on this thread ("kcore" when none): the bindings name it
// when they translate std::bad_alloc into a MemoryError.
const char* failed_op();

// Throws ValueError("<op>: <what> is too large (the size overflows int64)").
[[noreturn]] void throw_size_overflow(const std::string& what);

// a * b and a + b on sizes; `what()` (called only on overflow) describes what was being sized.
template <typename What> inline int64_t checked_mul(int64_t a, int64_t b, What&& what) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) throw_size_overflow(what());
  return r;
}
template <typename What> inline int64_t checked_add(int64_t a, int64_t b, What&& what) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) throw_size_overflow(what());
  return r;
}

// The product of `dims`, checked (a zero dimension does not excuse an overflowing partial
// product: strides are built from those). `what()` describes the shape on overflow.
template <typename What> inline int64_t checked_product(const Shape& dims, What&& what) {
  int64_t n = 1;
  for (auto d : dims) n = checked_mul(n, d, what);
  return n;
}

}  // namespace kcore

// KCORE_CHECKED_MUL(a, b, "stream" << "message"): a * b, or a ValueError naming the op and the message.
#define KCORE_SIZE_WHAT(...) \
  [&]() -> std::string { \
    std::ostringstream kc_what_; \
    kc_what_ << __VA_ARGS__; \
    return kc_what_.str(); \
  }
#define KCORE_CHECKED_MUL(a, b, ...) ::kcore::checked_mul((a), (b), KCORE_SIZE_WHAT(__VA_ARGS__))
#define KCORE_CHECKED_ADD(a, b, ...) ::kcore::checked_add((a), (b), KCORE_SIZE_WHAT(__VA_ARGS__))
