// Host-side CUDA services shared by the kernels and the module: errors, the caching
// allocator and device tensor creation. Plain C++ (no device code), so module.cpp can use it.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>

#include "core/tensor.h"

namespace kcore::cuda {

// Throws DeviceError carrying CUDA's own message.
void check(cudaError_t err, const char* what);
#define KC_CUDA(call) ::kcore::cuda::check((call), #call)
// After a kernel launch: reports launch-configuration errors.
#define KC_LAUNCHED(name) ::kcore::cuda::check(cudaGetLastError(), name)

// Every kernel and copy runs on the legacy default stream, so the order of host calls is
// the order of device work and the allocator may reuse a block as soon as it is freed.
constexpr cudaStream_t kStream = 0;

// ---- allocator (allocator.cu) ------------------------------------------------------
void* device_alloc(size_t nbytes);
void device_free(void* p, size_t nbytes);
struct MemoryStats {
  size_t allocated, peak_allocated, reserved, peak_reserved, num_allocs, num_cuda_mallocs;
};
MemoryStats memory_stats();
void reset_peak_stats();
void empty_cache();

// A fresh contiguous device tensor.
Tensor empty(const Shape& shape, DType dtype);
Tensor zeros(const Shape& shape, DType dtype);
Tensor full(const Shape& shape, DType dtype, double value);

void check_on_cuda(const Tensor& t, const char* op, const char* name);

}  // namespace kcore::cuda
