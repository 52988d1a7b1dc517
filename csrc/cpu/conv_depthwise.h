// Internal to the conv kernels: direct (im2col-free) depthwise convolution, the grouped conv with
// one input channel per group. x (n, *in, C), kernel (*k, 1, C * M) with M = filters per channel,
// y (n, *out, C * M); output channel c * M + m reads input channel c only. A depthwise im2col row
// would hold one value per tap and feed a GEMM of K = kvol; the direct loops instead stream whole
// channel vectors per tap, which the compiler vectorises.
#pragma once
#include <cstdint>

namespace kcore {

// Spatial axes as 3-D (leading axes of size 1 for 1-D and 2-D convs), like conv.cpp's Geometry.
struct DepthwiseGeometry {
  int64_t n = 0, c = 0, m = 1;
  int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1}, k[3] = {1, 1, 1};
  int64_t s[3] = {1, 1, 1}, d[3] = {1, 1, 1}, pb[3] = {0, 0, 0};
};

// y = depthwise conv of x plus bias (may be null).
template <typename T> void depthwise_forward(const DepthwiseGeometry& g, const T* x, const T* w, const T* bias, T* y);

// Any of dx (shape of x), dw (shape of the kernel), db (C * M) may be null (not wanted).
template <typename T>
void depthwise_backward(const DepthwiseGeometry& g, const T* x, const T* w, const T* dy, T* dx, T* dw, T* db);

}  // namespace kcore
