// The activations of the recurrent layers (ops/rnn.h's RnnActivation) and their slopes, per
// element, written once for host and device code on top of ops/activation_math.h (the CUDA
// gate kernels use them; float32 on the CPU takes activation_math's fast exp/tanh/sigmoid).
#pragma once
#include "ops/activation_math.h"
#include "ops/rnn.h"

namespace kcore::rnn_math {

// act(x).
template <typename T>
KCORE_MATH T value(RnnActivation a, T x) {
  switch (a) {
    case RnnActivation::tanh: return activation::tanh_op(x);
    case RnnActivation::relu: return x < T(0) ? T(0) : x;  // NaN passes through, like std::max(x, 0)
    case RnnActivation::sigmoid: return activation::sigmoid_op(x);
    case RnnActivation::linear: return x;
    case RnnActivation::hard_sigmoid: return activation::clamp((x + T(3)) / T(6), T(0), T(1));  // Keras 3
    case RnnActivation::hard_sigmoid_k2: return activation::clamp(T(0.2) * x + T(0.5), T(0), T(1));  // Keras 2
  }
  return x;
}

// g * act'(x) where y = act(x): every supported activation's slope is a function of its output.
// Flat regions give exactly 0 (not g * 0), as the CPU kernels do.
template <typename T>
KCORE_MATH T grad(RnnActivation a, T y, T g) {
  switch (a) {
    case RnnActivation::tanh: return g * (T(1) - y * y);
    case RnnActivation::relu: return y > T(0) ? g : T(0);
    case RnnActivation::sigmoid: return g * (y * (T(1) - y));
    case RnnActivation::linear: return g;
    case RnnActivation::hard_sigmoid: return (y > T(0) && y < T(1)) ? g * (T(1) / T(6)) : T(0);
    case RnnActivation::hard_sigmoid_k2: return (y > T(0) && y < T(1)) ? g * T(0.2) : T(0);
  }
  return g;
}

}  // namespace kcore::rnn_math
