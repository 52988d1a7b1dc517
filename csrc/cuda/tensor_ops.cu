// Storage plumbing for cuda tensors: fill, strided copies (device<->device, host<->device)
// and dtype conversion. These back Tensor::zeros/full/clone/copy_from/astype/to.
#include <cstring>

#include "cuda/common.cuh"
#include "cuda/table.h"

namespace kcore::cuda {
namespace {

template <typename T>
__global__ void fill_kernel(T* out, int64_t n, T value) {
  KC_GRID_STRIDE(i, n) out[i] = value;
}

// Element-size copy between two strided layouts (dtype-agnostic: moves 4 or 8 bytes).
template <typename W>
__global__ void strided_copy_kernel(W* dst, IndexMap dmap, const W* src, IndexMap smap, int64_t n) {
  KC_GRID_STRIDE(i, n) dst[dmap(i)] = src[smap(i)];
}

template <typename A, typename B>
__global__ void convert_kernel(B* out, const A* in, int64_t n) {
  KC_GRID_STRIDE(i, n) out[i] = static_cast<B>(in[i]);
}

void device_to_device(Tensor& dst, const Tensor& src) {
  const size_t es = dtype_size(dst.dtype());
  if (dst.is_contiguous() && src.is_contiguous()) {
    KC_CUDA(cudaMemcpyAsync(dst.raw(), src.raw(), dst.numel() * es, cudaMemcpyDeviceToDevice, kStream));
    return;
  }
  auto maps = broadcast_maps<2>(dst.shape(), {&dst, &src});
  const int64_t n = dst.numel();
  if (es == 4)
    strided_copy_kernel<uint32_t>
        <<<grid_for(n), kThreads, 0, kStream>>>(ptr<uint32_t>(dst), maps[0], ptr<uint32_t>(src), maps[1], n);
  else
    strided_copy_kernel<uint64_t>
        <<<grid_for(n), kThreads, 0, kStream>>>(ptr<uint64_t>(dst), maps[0], ptr<uint64_t>(src), maps[1], n);
  KC_LAUNCHED("copy");
}

void host_to_device(Tensor& dst, const Tensor& src_in) {
  Tensor src = src_in.contiguous();  // packs on the host when strided
  const size_t nbytes = src.numel() * dtype_size(src.dtype());
  if (dst.is_contiguous()) {
    KC_CUDA(cudaMemcpy(dst.raw(), src.raw(), nbytes, cudaMemcpyHostToDevice));
    return;
  }
  Tensor staged = empty(dst.shape(), dst.dtype());
  KC_CUDA(cudaMemcpy(staged.raw(), src.raw(), nbytes, cudaMemcpyHostToDevice));
  device_to_device(dst, staged);
}

void device_to_host(Tensor& dst, const Tensor& src_in) {
  Tensor src = src_in.contiguous();  // packs on the device when strided
  const size_t nbytes = src.numel() * dtype_size(src.dtype());
  if (dst.is_contiguous()) {
    KC_CUDA(cudaMemcpy(dst.raw(), src.raw(), nbytes, cudaMemcpyDeviceToHost));
    return;
  }
  Tensor staged = Tensor::empty(dst.shape(), dst.dtype());
  KC_CUDA(cudaMemcpy(staged.raw(), src.raw(), nbytes, cudaMemcpyDeviceToHost));
  dst.copy_from(staged);
}

}  // namespace

void fill(Tensor& t, double value) {
  check_on_cuda(t, "fill", "tensor");
  KCORE_CHECK(t.is_contiguous(), "fill: tensor must be contiguous");
  const int64_t n = t.numel();
  if (n == 0) return;
  dispatch_all(t.dtype(), [&](auto tag) {
    using T = decltype(tag);
    fill_kernel<T><<<grid_for(n), kThreads, 0, kStream>>>(ptr<T>(t), n, static_cast<T>(value));
  });
  KC_LAUNCHED("fill");
}

Tensor zeros(const Shape& shape, DType dtype) { return full(shape, dtype, 0.0); }

Tensor full(const Shape& shape, DType dtype, double value) {
  Tensor t = empty(shape, dtype);
  fill(t, value);
  return t;
}

void copy(Tensor& dst, const Tensor& src) {
  check_same_shape(dst, src, "copy");
  KCORE_CHECK(dst.dtype() == src.dtype(), "copy: dtype mismatch");
  if (dst.numel() == 0) return;
  const bool d_gpu = dst.device() == Device::cuda, s_gpu = src.device() == Device::cuda;
  if (d_gpu && s_gpu) device_to_device(dst, src);
  else if (d_gpu) host_to_device(dst, src);
  else if (s_gpu) device_to_host(dst, src);
  else dst.copy_from(src);
}

Tensor astype(const Tensor& x_in, DType dtype) {
  check_on_cuda(x_in, "astype", "x");
  Tensor x = x_in.contiguous();
  Tensor out = empty(x.shape(), dtype);
  const int64_t n = x.numel();
  if (n == 0) return out;
  dispatch_all(x.dtype(), [&](auto a) {
    using A = decltype(a);
    dispatch_all(dtype, [&](auto b) {
      using B = decltype(b);
      convert_kernel<A, B><<<grid_for(n), kThreads, 0, kStream>>>(ptr<B>(out), ptr<A>(x), n);
    });
  });
  KC_LAUNCHED("astype");
  return out;
}

}  // namespace kcore::cuda
