// CUDA kernels for comparisons, logical connectives and where, mirroring csrc/cpu/compare.cpp.
#include "cuda/common.cuh"
#include "cuda/table.h"

namespace kcore::cuda {
namespace {

const char* compare_name(CompareOp op) {
  static const char* names[] = {"equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
                                "logical_and", "logical_or", "logical_xor"};
  return names[(int)op];
}

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

Tensor compare(CompareOp op, const Tensor& a, const Tensor& b) {
  const char* name = compare_name(op);
  check_on_cuda(a, name, "x1");
  check_on_cuda(b, name, "x2");
  check_same_dtype(a, b, name);
  Shape shape = cuda::broadcast_shapes(a.shape(), b.shape(), name);
  Tensor out = empty(shape, DType::b8);
  const int64_t n = out.numel();
  if (n == 0) return out;
  auto maps = broadcast_maps<3>(shape, {&out, &a, &b});
  dispatch_all(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    compare_kernel<T><<<grid_for(n), kThreads, 0, kStream>>>(op, ptr<bool>(out), ptr<T>(a), maps[1], ptr<T>(b),
                                                             maps[2], n);
  });
  KC_LAUNCHED(name);
  return out;
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  check_on_cuda(cond, "where", "condition");
  check_on_cuda(a, "where", "x1");
  check_on_cuda(b, "where", "x2");
  KCORE_CHECK(cond.dtype() == DType::b8, "where: condition must be a bool tensor, got " << dtype_name(cond.dtype()));
  check_same_dtype(a, b, "where");
  Shape shape = cuda::broadcast_shapes(cuda::broadcast_shapes(cond.shape(), a.shape(), "where"), b.shape(), "where");
  Tensor out = empty(shape, a.dtype());
  const int64_t n = out.numel();
  if (n == 0) return out;
  auto maps = broadcast_maps<4>(shape, {&out, &cond, &a, &b});
  dispatch_all(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    where_kernel<T><<<grid_for(n), kThreads, 0, kStream>>>(ptr<T>(out), ptr<bool>(cond), maps[1], ptr<T>(a), maps[2],
                                                           ptr<T>(b), maps[3], n);
  });
  KC_LAUNCHED("where");
  return out;
}

}  // namespace kcore::cuda
