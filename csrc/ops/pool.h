// N-d max / average pooling (1, 2 or 3 spatial axes), channels_last: x (batch, *spatial, C).
// Padding is explicit per axis (Python computes Keras's 'valid' / 'same' split). Padded cells
// never take part: max ignores them and the average divides by the number of real cells.
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "ops/kernel_decl.h"

namespace kcore {

enum class PoolMode : int { max, average };

struct PoolArgs {
  Shape pool_size, strides, pad_before, pad_after;
};

// Returns (y, argmax). For max pooling argmax (int32, shaped like y) holds, per output cell,
// the flat spatial index inside its image of the winning input cell (first maximum wins);
// for average pooling it is undefined.
std::pair<Tensor, OptionalTensor> pool_forward(const Tensor& x, PoolMode mode, const PoolArgs& args);

// Gradient w.r.t. the input of shape x_shape; `argmax` is the forward's (max pooling only).
Tensor pool_backward(const Tensor& grad, const OptionalTensor& argmax, const Shape& x_shape, PoolMode mode,
                     const PoolArgs& args);

// Device kernels, routed whole (ops/pool.cpp routes).
// clang-format off
#define KCORE_POOL_KERNELS(X)                                                                              \
  X(TensorPair, pool_forward, (const Tensor& x, PoolMode mode, const PoolArgs& args))                      \
  X(Tensor, pool_backward,                                                                                 \
    (const Tensor& grad, const Tensor& argmax, const Shape& x_shape, PoolMode mode, const PoolArgs& args))
// clang-format on
KCORE_DECLARE_KERNELS(KCORE_POOL_KERNELS)

}  // namespace kcore
