// The activations of the recurrent layers (ops/rnn.h's RnnActivation) per element, for host and
// device code: each is the UnaryOp of ops/activation_math.h (linear: the identity), and its slope
// is taken from the activated value, the only one the recurrent kernels keep.
#pragma once
#include "ops/activation_math.h"
#include "ops/rnn.h"

namespace kcore::rnn_math {

// The UnaryOp computing a (linear maps to none: callers treat it as the identity).
KCORE_MATH UnaryOp unary_of(RnnActivation a) {
  switch (a) {
    case RnnActivation::relu: return UnaryOp::relu;
    case RnnActivation::sigmoid: return UnaryOp::sigmoid;
    case RnnActivation::hard_sigmoid: return UnaryOp::hard_sigmoid;
    case RnnActivation::hard_sigmoid_k2: return UnaryOp::hard_sigmoid_k2;
    default: return UnaryOp::tanh;
  }
}

// act(x).
template <typename T>
KCORE_MATH T value(RnnActivation a, T x) {
  return a == RnnActivation::linear ? x : activation::value(unary_of(a), x, T(0));
}

// g * act'(x) where y = act(x). tanh, sigmoid and relu's slopes are written in terms of y; the
// hard sigmoids are linear exactly where 0 < y < 1. Flat regions give exactly 0 (not g * 0).
template <typename T>
KCORE_MATH T grad(RnnActivation a, T y, T g) {
  switch (a) {
    case RnnActivation::linear: return g;
    case RnnActivation::relu: return y > T(0) ? g : T(0);
    case RnnActivation::hard_sigmoid:
    case RnnActivation::hard_sigmoid_k2:
      return (y > T(0) && y < T(1)) ? g * activation::derivative(unary_of(a), T(0), y, T(0)) : T(0);
    default: return g * activation::derivative(unary_of(a), y, y, T(0));  // tanh, sigmoid
  }
}

}  // namespace kcore::rnn_math
