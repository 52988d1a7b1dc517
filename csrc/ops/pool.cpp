// Pooling: the device-independent entry points.
#include "ops/pool.h"

#include "ops/op_call.h"

namespace kcore {

std::pair<Tensor, OptionalTensor> pool_forward(const Tensor& x, PoolMode mode, const PoolArgs& args) {
  OpCall call("pool_forward", x);
  auto [y, argmax] = KCORE_KERNEL(call, pool_forward)(x, mode, args);
  return {y, argmax};
}

Tensor pool_backward(const Tensor& grad, const OptionalTensor& argmax, const Shape& x_shape, PoolMode mode,
                     const PoolArgs& args) {
  OpCall call("pool_backward", grad, argmax);
  return KCORE_KERNEL(call, pool_backward)(grad, argmax, x_shape, mode, args);
}

}  // namespace kcore
