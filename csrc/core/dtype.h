// Element types kcore tensors can hold.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/bfloat16.h"
#include "core/errors.h"

namespace kcore {

// b8: bool, one byte per element holding 0 or 1 (NumPy's bool_ layout); results of comparisons.
// bf16: bfloat16 (core/bfloat16.h), CPU only; a storage format that kernels compute in float.
enum class DType : int { f32 = 0, f64 = 1, i32 = 2, i64 = 3, b8 = 4, bf16 = 5 };

inline size_t dtype_size(DType t) {
  switch (t) {
    case DType::f32:
    case DType::i32: return 4;
    case DType::b8: return 1;
    case DType::bf16: return 2;
    default: return 8;
  }
}

inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::f32: return "float32";
    case DType::f64: return "float64";
    case DType::i32: return "int32";
    case DType::b8: return "bool";
    case DType::bf16: return "bfloat16";
    default: return "int64";
  }
}

inline bool is_floating(DType t) { return t == DType::f32 || t == DType::f64 || t == DType::bf16; }

template <typename T> struct dtype_of;
template <> struct dtype_of<float> {
  static constexpr DType value = DType::f32;
};
template <> struct dtype_of<double> {
  static constexpr DType value = DType::f64;
};
template <> struct dtype_of<int32_t> {
  static constexpr DType value = DType::i32;
};
template <> struct dtype_of<int64_t> {
  static constexpr DType value = DType::i64;
};
template <> struct dtype_of<bool> {
  static constexpr DType value = DType::b8;
};
template <> struct dtype_of<bf16> {
  static constexpr DType value = DType::bf16;
};

// Calls fn.template operator()<T>() with T the C++ type of a floating dtype.
template <typename Fn> auto dispatch_float(DType t, const char* op, Fn&& fn) {
  switch (t) {
    case DType::f32: return fn(float{});
    case DType::f64: return fn(double{});
    default: throw TypeError(std::string(op) + ": expected a float32 or float64 tensor, got " + dtype_name(t));
  }
}

template <typename Fn> auto dispatch_index(DType t, const char* op, Fn&& fn) {
  switch (t) {
    case DType::i32: return fn(int32_t{});
    case DType::i64: return fn(int64_t{});
    default: throw TypeError(std::string(op) + ": expected an int32 or int64 index tensor, got " + dtype_name(t));
  }
}

// Every dtype but bf16 (CUDA kernels and code that has no bf16 path; bf16 raises TypeError).
template <typename Fn> auto dispatch_all(DType t, Fn&& fn) {
  switch (t) {
    case DType::f32: return fn(float{});
    case DType::f64: return fn(double{});
    case DType::i32: return fn(int32_t{});
    case DType::b8: return fn(bool{});
    case DType::i64: return fn(int64_t{});
    default:
      throw TypeError(std::string("expected a float32, float64, int32, int64 or bool tensor, got ") + dtype_name(t));
  }
}

// Every dtype, bf16 included (CPU code: bf16 computes in float, see core/bfloat16.h).
template <typename Fn> auto dispatch_cpu(DType t, Fn&& fn) {
  if (t == DType::bf16) return fn(bf16{});
  return dispatch_all(t, fn);
}

// float32, float64 and bf16 (CPU kernels; accumulate in acc_t<T>).
template <typename Fn> auto dispatch_float_cpu(DType t, const char* op, Fn&& fn) {
  if (t == DType::bf16) return fn(bf16{});
  return dispatch_float(t, op, fn);
}

// The numeric (non-bool) dtypes.
template <typename Fn> auto dispatch_numeric(DType t, const char* op, Fn&& fn) {
  switch (t) {
    case DType::f32: return fn(float{});
    case DType::f64: return fn(double{});
    case DType::i32: return fn(int32_t{});
    case DType::i64: return fn(int64_t{});
    default: throw TypeError(std::string(op) + ": expected a numeric tensor, got " + dtype_name(t));
  }
}

}  // namespace kcore
