// Device storage plumbing: how the core Tensor allocates, fills and copies memory on a device
// other than the CPU. A device extension (kcore._C_cuda) registers its DeviceStorage as part of
// its kernel table (ops/kernels.h); the core knows nothing about ops.
#pragma once
#include "core/tensor.h"

namespace kcore {

struct DeviceStorage {
  Tensor (*empty)(const Shape& shape, DType dtype) = nullptr;
  void (*fill)(Tensor& t, double value) = nullptr;           // t contiguous, on the device
  void (*copy)(Tensor& dst, const Tensor& src) = nullptr;    // same shape/dtype, any strides, any devices
  Tensor (*astype)(const Tensor& x, DType dtype) = nullptr;  // x on the device
};

// The registered CUDA storage, or null when kcore._C_cuda has not been loaded.
const DeviceStorage* cuda_storage();
void set_cuda_storage(const DeviceStorage* storage);
// The CUDA storage; throws a RuntimeError-mapped error naming `op` when it is not loaded.
const DeviceStorage& require_cuda(const char* op);
// The error require_cuda throws, for callers that check registration themselves.
[[noreturn]] void throw_cuda_not_loaded(const char* op);

}  // namespace kcore
