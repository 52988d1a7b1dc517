// Copying shape ops on CUDA, mirroring csrc/cpu/shape.cpp: concatenation and the slice
// gradient as strided copies into views of the output; row gather and scatter-add.
#include "cuda/common.cuh"
#include "cuda/table.h"
#include "ops/arguments.h"

namespace kcore::cuda {
namespace {

template <typename T, typename I>
__global__ void take_rows_kernel(T* out, const T* x, const I* idx, int64_t n_idx, int64_t rows, int64_t row, int* bad) {
  KC_GRID_STRIDE(e, n_idx * row) {
    const int64_t i = e / row, c = e - i * row;
    const I r = idx[i];
    if (r < 0 || r >= rows) {
      *bad = 1;
      out[e] = T(0);
    } else {
      out[e] = x[(int64_t)r * row + c];
    }
  }
}

// Scatter-add with atomics: sums are exact up to float rounding, in an unspecified order
// (the CPU adds rows in index order; results agree to rounding, not bit for bit).
template <typename T, typename I>
__global__ void scatter_add_kernel(T* out, const T* g, const I* idx, int64_t n_idx, int64_t rows, int64_t row,
                                   int* bad) {
  KC_GRID_STRIDE(e, n_idx * row) {
    const int64_t i = e / row, c = e - i * row;
    const I r = idx[i];
    if (r < 0 || r >= rows) *bad = 1;
    else atomicAdd(out + (int64_t)r * row + c, g[e]);
  }
}

void raise_if_bad(const Tensor& flag, const char* op, int64_t rows) {
  int host = 0;
  KC_CUDA(cudaMemcpy(&host, flag.raw(), sizeof(int), cudaMemcpyDeviceToHost));
  KCORE_CHECK(host == 0, op << ": an index is out of range for " << rows << " rows");
}

// The view out[start : start + extent] along `axis`.
Tensor window(const Tensor& out, int64_t axis, int64_t start, int64_t extent) {
  Shape shape = out.shape();
  shape[axis] = extent;
  return out.as_strided(shape, out.strides(), out.offset() + start * out.strides()[axis]);
}

}  // namespace

void concatenate(const std::vector<Tensor>& xs, int64_t axis, Tensor& out) {
  int64_t at = 0;
  for (const auto& t : xs) {
    Tensor dst = window(out, axis, at, t.shape()[axis]);
    cuda::copy(dst, t);
    at += t.shape()[axis];
  }
}

void take_rows(const Tensor& x, const Tensor& idx, Tensor& out) {
  const int64_t rows = x.shape()[0];
  const int64_t row = x.numel() / std::max<int64_t>(rows, 1);
  const int64_t n = out.numel();
  Tensor bad = zeros({1}, DType::i32);
  dispatch_all(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    dispatch_index(idx.dtype(), "take", [&](auto itag) {
      using I = decltype(itag);
      take_rows_kernel<T, I><<<grid_for(n), kThreads, 0, kStream>>>(ptr<T>(out), ptr<T>(x), ptr<I>(idx), idx.numel(),
                                                                    rows, row, ptr<int>(bad));
    });
  });
  KC_LAUNCHED("take");
  raise_if_bad(bad, "take", rows);
}

void take_rows_backward(const Tensor& g, const Tensor& idx, Tensor& out) {
  const int64_t n = idx.numel(), num_rows = out.shape()[0];
  const int64_t row = g.numel() / n;
  Tensor bad = zeros({1}, DType::i32);
  dispatch_float(g.dtype(), "take backward", [&](auto tag) {
    using T = decltype(tag);
    dispatch_index(idx.dtype(), "take backward", [&](auto itag) {
      using I = decltype(itag);
      scatter_add_kernel<T, I><<<grid_for(n * row), kThreads, 0, kStream>>>(ptr<T>(out), ptr<T>(g), ptr<I>(idx), n,
                                                                            num_rows, row, ptr<int>(bad));
    });
  });
  KC_LAUNCHED("take backward");
  raise_if_bad(bad, "take backward", num_rows);
}

}  // namespace kcore::cuda
