// CUDA kernels for comparisons, logical connectives and where, mirroring csrc/cpu/elementwise.cpp.
#include "cuda/common.cuh"
#include "cuda/table.h"

namespace kcore::cuda {
namespace {

template <typename T>
__device__ bool compare_value(CompareOp op, T x, T y) {
  switch (op) {
    case CompareOp::equal: return x == y;
    case CompareOp::not_equal: return x != y;
    case CompareOp::less: return x < y;
    case CompareOp::less_equal: return x <= y;
    case CompareOp::greater: return x > y;
    case CompareOp::greater_equal: return x >= y;
    case CompareOp::logical_and: return (x != T(0)) && (y != T(0));
    case CompareOp::logical_or: return (x != T(0)) || (y != T(0));
    case CompareOp::logical_xor: return (x != T(0)) != (y != T(0));
  }
  return false;
}

template <typename T>
__global__ void compare_kernel(CompareOp op, bool* out, const T* a, IndexMap am, const T* b, IndexMap bm, int64_t n) {
  KC_GRID_STRIDE(i, n) out[i] = compare_value<T>(op, a[am(i)], b[bm(i)]);
}

template <typename T>
__global__ void where_kernel(T* out, const bool* c, IndexMap cm, const T* a, IndexMap am, const T* b, IndexMap bm,
                             int64_t n) {
  KC_GRID_STRIDE(i, n) out[i] = c[cm(i)] ? a[am(i)] : b[bm(i)];
}

}  // namespace

void compare(CompareOp op, const Tensor& a, const Tensor& b, Tensor& out) {
  const int64_t n = out.numel();
  auto maps = broadcast_maps<3>(out.shape(), {&out, &a, &b});
  dispatch_all(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    compare_kernel<T>
        <<<grid_for(n), kThreads, 0, kStream>>>(op, ptr<bool>(out), ptr<T>(a), maps[1], ptr<T>(b), maps[2], n);
  });
  KC_LAUNCHED(compare_name(op));
}

void where(const Tensor& cond, const Tensor& a, const Tensor& b, Tensor& out) {
  const int64_t n = out.numel();
  auto maps = broadcast_maps<4>(out.shape(), {&out, &cond, &a, &b});
  dispatch_all(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    where_kernel<T><<<grid_for(n), kThreads, 0, kStream>>>(ptr<T>(out), ptr<bool>(cond), maps[1], ptr<T>(a), maps[2],
                                                           ptr<T>(b), maps[3], n);
  });
  KC_LAUNCHED("where");
}

}  // namespace kcore::cuda
