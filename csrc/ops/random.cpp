// Random draws: the device-independent entry points (the device and dtype are `like`'s).
#include "ops/random.h"

#include "ops/op_call.h"

namespace kcore {

Tensor dropout_mask(const Shape& shape, double rate, uint64_t seed, const Tensor& like) {
  OpCall call("dropout_mask", like);
  return KCORE_KERNEL(call, dropout_mask)(shape, rate, seed, like.dtype());
}

Tensor random_uniform(const Shape& shape, double lo, double hi, uint64_t seed, const Tensor& like) {
  OpCall call("random_uniform", like);
  return KCORE_KERNEL(call, random_uniform)(shape, lo, hi, seed, like.dtype());
}

}  // namespace kcore
