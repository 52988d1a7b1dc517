// Random draws: the device-independent entry points (the device and dtype are `like`'s).
#include "ops/random.h"

#include "ops/op_call.h"

namespace kcore {

Tensor dropout_mask(const Shape& shape, double rate, uint64_t seed, const Tensor& like) {
  OpCall call("dropout_mask", like);
  auto kernel = KCORE_KERNEL(call, dropout_mask);
  KCORE_CHECK(rate >= 0.0 && rate < 1.0, "dropout: rate must be in [0, 1), got " << rate);
  Tensor out = call.empty(shape, like.dtype());
  if (out.numel() > 0) kernel(rate, seed, out);
  return out;
}

Tensor random_uniform(const Shape& shape, double lo, double hi, uint64_t seed, const Tensor& like) {
  OpCall call("random_uniform", like);
  auto kernel = KCORE_KERNEL(call, random_uniform);
  Tensor out = call.empty(shape, like.dtype());
  if (out.numel() > 0) kernel(lo, hi, seed, out);
  return out;
}

}  // namespace kcore
