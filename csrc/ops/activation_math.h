// The value and derivative of every UnaryOp, written once for the CPU kernels and the CUDA
// kernels (compiled as __host__ __device__ under nvcc). Three functions take faster routes on
// the CPU for float32 (vectorisable exp / tanh / sigmoid, csrc/core/fastmath.h).
#pragma once
#include <cmath>

#include "core/fastmath.h"
#include "ops/elementwise.h"

#ifdef __CUDACC__
#define KCORE_MATH __host__ __device__ __forceinline__
#else
#define KCORE_MATH __attribute__((always_inline)) inline  // folds the switch and vectorises the loop
#endif

namespace kcore::activation {

using std::abs;
using std::cos;
using std::erf;
using std::exp;
using std::expm1;
using std::log;
using std::log1p;
using std::sin;
using std::sqrt;
using std::tanh;

constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluScale = 1.0507009873554804934193349852946;
constexpr double kSqrtHalf = 0.70710678118654752440;
constexpr double kSqrtTwoOverPi = 0.7978845608028654;

template <typename T> KCORE_MATH T clamp(T x, T lo, T hi) { return x < lo ? lo : (x > hi ? hi : x); }

template <typename T> KCORE_MATH T sigmoid(T x) {
  return x >= T(0) ? T(1) / (T(1) + exp(-x)) : exp(x) / (T(1) + exp(x));
}

template <typename T> KCORE_MATH T softplus(T x) { return x > T(0) ? x + log1p(exp(-x)) : log1p(exp(x)); }

// exp, tanh and sigmoid themselves: fast float32 versions on the CPU, the math library on the GPU.
#ifdef __CUDA_ARCH__
template <typename T> KCORE_MATH T exp_op(T x) { return exp(x); }
template <typename T> KCORE_MATH T tanh_op(T x) { return tanh(x); }
template <typename T> KCORE_MATH T sigmoid_op(T x) { return sigmoid(x); }
#else
template <typename T> KCORE_MATH T exp_op(T x) { return fast_exp(x); }
template <typename T> KCORE_MATH T tanh_op(T x) { return fast_tanh(x); }
template <typename T> KCORE_MATH T sigmoid_op(T x) { return fast_sigmoid(x); }
#endif

template <typename T> KCORE_MATH T value(UnaryOp op, T x, T alpha) {
  switch (op) {
    case UnaryOp::negative: return -x;
    case UnaryOp::exp: return exp_op(x);
    case UnaryOp::log: return log(x);
    case UnaryOp::sqrt: return sqrt(x);
    case UnaryOp::square: return x * x;
    case UnaryOp::abs: return abs(x);
    case UnaryOp::tanh: return tanh_op(x);
    case UnaryOp::sigmoid: return sigmoid_op(x);
    case UnaryOp::relu: return x < T(0) ? T(0) : x;  // NaN passes through
    case UnaryOp::elu: return x > T(0) ? x : alpha * expm1(x);
    case UnaryOp::selu: return T(kSeluScale) * (x > T(0) ? x : T(kSeluAlpha) * expm1(x));
    case UnaryOp::softplus: return softplus(x);
    case UnaryOp::softsign: return x / (T(1) + abs(x));
    case UnaryOp::hard_sigmoid: return clamp(x + T(3), T(0), T(6)) / T(6);
    case UnaryOp::hard_sigmoid_k2: return clamp(T(0.2) * x + T(0.5), T(0), T(1));
    case UnaryOp::gelu: return T(0.5) * x * (T(1) + erf(x * T(kSqrtHalf)));
    case UnaryOp::gelu_tanh: return T(0.5) * x * (T(1) + tanh(T(kSqrtTwoOverPi) * (x + T(0.044715) * x * x * x)));
    case UnaryOp::silu: return x * sigmoid(x);
    case UnaryOp::leaky_relu: return x > T(0) ? x : alpha * x;
    case UnaryOp::relu6: return clamp(x, T(0), T(6));
    case UnaryOp::log_sigmoid: return -softplus(-x);
    case UnaryOp::reciprocal: return T(1) / x;
    case UnaryOp::sin: return sin(x);
    case UnaryOp::cos: return cos(x);
    case UnaryOp::sign: return x > T(0) ? T(1) : (x < T(0) ? T(-1) : (x == T(0) ? T(0) : x));  // sign(NaN) = NaN
    case UnaryOp::mish: return x * tanh(softplus(x));
  }
  return x;
}

// dy/dx given x and y = value(op, x).
template <typename T> KCORE_MATH T derivative(UnaryOp op, T x, T y, T alpha) {
  switch (op) {
    case UnaryOp::negative: return T(-1);
    case UnaryOp::exp: return y;
    case UnaryOp::log: return T(1) / x;
    case UnaryOp::sqrt: return T(0.5) / y;
    case UnaryOp::square: return T(2) * x;
    case UnaryOp::abs: return x > T(0) ? T(1) : (x < T(0) ? T(-1) : T(0));
    case UnaryOp::tanh: return T(1) - y * y;
    case UnaryOp::sigmoid: return y * (T(1) - y);
    case UnaryOp::relu: return x > T(0) ? T(1) : T(0);
    case UnaryOp::elu: return x > T(0) ? T(1) : y + alpha;
    case UnaryOp::selu: return x >= T(0) ? T(kSeluScale) : y + T(kSeluScale * kSeluAlpha);  // at 0: TF's scale
    case UnaryOp::softplus: return sigmoid(x);
    case UnaryOp::softsign: {
      const T d = T(1) + abs(x);
      return T(1) / (d * d);
    }
    case UnaryOp::hard_sigmoid: return (x > T(-3) && x < T(3)) ? T(1) / T(6) : T(0);
    case UnaryOp::hard_sigmoid_k2: return (x > T(-2.5) && x < T(2.5)) ? T(0.2) : T(0);
    case UnaryOp::gelu: {
      const T cdf = T(0.5) * (T(1) + erf(x * T(kSqrtHalf)));
      const T pdf = exp(T(-0.5) * x * x) * T(0.3989422804014327);
      return cdf + x * pdf;
    }
    case UnaryOp::gelu_tanh: {
      const T c = T(kSqrtTwoOverPi);
      const T t = tanh(c * (x + T(0.044715) * x * x * x));
      const T du = c * (T(1) + T(3 * 0.044715) * x * x);
      return T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * du;
    }
    case UnaryOp::silu: {
      const T s = sigmoid(x);
      return s * (T(1) + x * (T(1) - s));
    }
    case UnaryOp::leaky_relu: return x > T(0) ? T(1) : alpha;
    case UnaryOp::relu6: return (x > T(0) && x < T(6)) ? T(1) : T(0);
    case UnaryOp::log_sigmoid: return sigmoid(-x);
    case UnaryOp::reciprocal: return -y * y;
    case UnaryOp::sin: return cos(x);
    case UnaryOp::cos: return -sin(x);
    case UnaryOp::sign: return T(0);
    case UnaryOp::mish: {
      const T t = tanh(softplus(x));
      return t + x * (T(1) - t * t) * sigmoid(x);
    }
  }
  return T(0);
}

// dy/dx from y = value(op, x) alone, for the ops whose slope is a function of their output
// (the recurrent kernels keep activated values only); the others return NaN.
template <typename T> KCORE_MATH T derivative_from_output(UnaryOp op, T y) {
  switch (op) {
    case UnaryOp::tanh:
    case UnaryOp::sigmoid: return derivative(op, y, y, T(0));  // written in terms of y
    case UnaryOp::relu: return derivative(op, y, y, T(0));     // y > 0 exactly where x > 0
    case UnaryOp::hard_sigmoid:                                // the linear piece is 0 < y < 1
      return (y > T(0) && y < T(1)) ? derivative(op, T(0), y, T(0)) : T(0);
    case UnaryOp::hard_sigmoid_k2: return (y > T(0) && y < T(1)) ? derivative(op, T(0), y, T(0)) : T(0);
    default: return T(NAN);
  }
}

}  // namespace kcore::activation
