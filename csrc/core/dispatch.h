// Device dispatch: a table of kernels per non-CPU device, filled at import by the device's
// extension (kcore._C_cuda registers its table through a PyCapsule, see python/device_bindings.cpp).
// Every public op of ops/*.h has one slot with exactly its signature; a null slot means "not
// implemented on that device" and raises NotImplementedError naming the op.
// A new op family (conv, pool, rnn...): add its ops to KCORE_DEVICE_OPS, bind them with
// KCORE_DEF_ROUTED (python/route.h) and bump kDeviceOpsAbi. An unrouted binding would hand
// cuda tensors to CPU kernels; tests/test_cuda.py::test_every_binding_routes_by_device fails
// until each tensor-taking binding is routed.
#pragma once
#include "core/tensor.h"
#include "ops/conv.h"
#include "ops/elementwise.h"
#include "ops/linalg.h"
#include "ops/loss.h"
#include "ops/norm.h"
#include "ops/optim.h"
#include "ops/pool.h"
#include "ops/random.h"
#include "ops/reduce.h"
#include "ops/rnn.h"
#include "ops/shape.h"

namespace kcore {

// Bump when DeviceOps or an argument struct of its slots (ConvArgs...) changes layout: _C refuses
// a table built against another layout.
constexpr int kDeviceOpsAbi = 4;  // 3: ConvArgs gained `groups`; 4: compare/where slots, bool dtype

// The ops routed by device (transpose / slice / reshape are views or built on the
// device-aware Tensor methods, so they need no slot).
#define KCORE_DEVICE_OPS_CORE(X)                                                                    \
  X(binary) X(binary_backward) X(unary) X(unary_backward) X(clip) X(clip_backward) X(sum_to_shape)  \
  X(broadcast_to) X(scale) X(has_nonfinite) X(compare) X(where)                                     \
  X(reduce) X(reduce_backward) X(argmax) X(softmax) X(softmax_backward)                             \
  X(matmul) X(matmul_backward) X(linear) X(linear_backward) X(sum_rows)                             \
  X(softmax_cross_entropy) X(softmax_cross_entropy_backward) X(sparse_softmax_cross_entropy)        \
  X(sparse_softmax_cross_entropy_backward) X(sigmoid_cross_entropy) X(sigmoid_cross_entropy_backward) \
  X(mean_error) X(mean_error_backward)                                                              \
  X(batch_norm_train) X(batch_norm_infer) X(batch_norm_backward) X(layer_norm) X(layer_norm_backward) \
  X(sgd_update) X(adam_update) X(rmsprop_update) X(adagrad_update) X(adadelta_update)               \
  X(nadam_update) X(adamax_update)                                                                  \
  X(dropout_mask) X(random_uniform)                                                                 \
  X(concatenate) X(slice_backward) X(take_rows) X(take_rows_backward)

// Convolution, pooling and the recurrent sequence kernels (routed; no CUDA kernels yet).
#define KCORE_DEVICE_OPS_NN(X)                                                          \
  X(conv_forward) X(conv_backward) X(conv_transpose) X(conv_transpose_backward)         \
  X(pool_forward) X(pool_backward) X(rnn_forward) X(rnn_backward)

#define KCORE_DEVICE_OPS(X) KCORE_DEVICE_OPS_CORE(X) KCORE_DEVICE_OPS_NN(X)

struct DeviceOps {
  int abi = kDeviceOpsAbi;
  // Storage plumbing used by the device-aware Tensor methods (core/tensor.cpp).
  Tensor (*empty)(const Shape& shape, DType dtype) = nullptr;
  void (*fill)(Tensor& t, double value) = nullptr;               // t contiguous, on the device
  void (*copy)(Tensor& dst, const Tensor& src) = nullptr;        // same shape/dtype, any strides, any devices
  Tensor (*astype)(const Tensor& x, DType dtype) = nullptr;      // x on the device
#define KCORE_DEVICE_OP_SLOT(name) decltype(&::kcore::name) name = nullptr;
  KCORE_DEVICE_OPS(KCORE_DEVICE_OP_SLOT)
#undef KCORE_DEVICE_OP_SLOT
};

// The registered CUDA table, or null when kcore._C_cuda has not been loaded.
const DeviceOps* cuda_ops();
void set_cuda_ops(const DeviceOps* ops);
// The CUDA table; throws a RuntimeError-mapped error naming `op` when it is not loaded.
const DeviceOps& require_cuda(const char* op);

}  // namespace kcore
