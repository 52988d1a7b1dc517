// Counter-based random numbers: element i of a draw depends only on (seed, i), so results
// are the same for any thread count.
#pragma once
#include "core/tensor.h"
#include "ops/kernel_decl.h"

namespace kcore {

// Inverted-dropout mask: 0 with probability `rate`, else 1 / (1 - rate).
// Both draw a tensor of `like`'s dtype on `like`'s device.
Tensor dropout_mask(const Shape& shape, double rate, uint64_t seed, const Tensor& like);
Tensor random_uniform(const Shape& shape, double lo, double hi, uint64_t seed, const Tensor& like);

// Device kernels: fill `out` (packed, non-empty; ops/random.cpp allocates it and checks the rate).
// clang-format off
#define KCORE_RANDOM_KERNELS(X)                                                                            \
  X(void, dropout_mask, (double rate, uint64_t seed, Tensor& out))                                         \
  X(void, random_uniform, (double lo, double hi, uint64_t seed, Tensor& out))
// clang-format on
KCORE_DECLARE_KERNELS(KCORE_RANDOM_KERNELS)

}  // namespace kcore
