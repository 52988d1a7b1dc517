// Counter-based random numbers: element i of a draw depends only on (seed, i), so results
// are the same for any thread count.
#pragma once
#include "core/tensor.h"

namespace kcore {

// Inverted-dropout mask: 0 with probability `rate`, else 1 / (1 - rate).
Tensor dropout_mask(const Shape& shape, double rate, uint64_t seed, DType dtype);
Tensor random_uniform(const Shape& shape, double lo, double hi, uint64_t seed, DType dtype);

}  // namespace kcore
