// Walking N operands over a common (broadcast) index space, row by row.
#pragma once
#include <array>

#include "core/parallel.h"
#include "core/tensor.h"

namespace kcore {

template <int N> struct BroadcastPlan {
  Shape shape;                   // coalesced iteration shape
  std::array<Shape, N> strides;  // element strides per operand, 0 on broadcast axes
};

// Aligns every operand's strides to `out_shape` (right-aligned, NumPy rules) and merges
// axes that are contiguous for every operand, so most plans end up one or two axes deep.
template <int N> BroadcastPlan<N> make_plan(const Shape& out_shape, const std::array<const Tensor*, N>& ops) {
  const int64_t nd = (int64_t)out_shape.size();
  std::array<Shape, N> st;
  for (int k = 0; k < N; ++k) {
    st[k].assign(nd, 0);
    const Tensor& t = *ops[k];
    int64_t off = nd - t.ndim();
    for (int64_t d = 0; d < t.ndim(); ++d)
      st[k][d + off] = (t.shape()[d] == 1 && out_shape[d + off] != 1) ? 0 : t.strides()[d];
  }
  BroadcastPlan<N> p;
  for (int64_t d = 0; d < nd; ++d) {
    if (out_shape[d] == 1) continue;
    if (!p.shape.empty()) {
      bool merge = true;
      for (int k = 0; k < N; ++k)
        if (p.strides[k].back() != st[k][d] * out_shape[d]) merge = false;
      if (merge) {
        p.shape.back() *= out_shape[d];
        for (int k = 0; k < N; ++k) p.strides[k].back() = st[k][d];
        continue;
      }
    }
    p.shape.push_back(out_shape[d]);
    for (int k = 0; k < N; ++k) p.strides[k].push_back(st[k][d]);
  }
  if (p.shape.empty()) {
    p.shape.push_back(1);
    for (int k = 0; k < N; ++k) p.strides[k].push_back(0);
  }
  return p;
}

// fn(n, ptrs, inner_strides): process one row of n elements.
template <typename T, int N, typename Fn>
void for_each_row(const BroadcastPlan<N>& p, const std::array<T*, N>& base, Fn&& fn) {
  const int64_t nd = (int64_t)p.shape.size();
  const int64_t inner = p.shape[nd - 1];
  int64_t rows = 1;
  for (int64_t d = 0; d + 1 < nd; ++d) rows *= p.shape[d];
  std::array<int64_t, N> in_st;
  for (int k = 0; k < N; ++k) in_st[k] = p.strides[k][nd - 1];
  const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(inner, 1));
  parallel_for(rows, grain, [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      std::array<T*, N> ptr = base;
      int64_t rem = r;
      for (int64_t d = nd - 2; d >= 0; --d) {
        int64_t idx = rem % p.shape[d];
        rem /= p.shape[d];
        for (int k = 0; k < N; ++k) ptr[k] += idx * p.strides[k][d];
      }
      fn(inner, ptr, in_st);
    }
  });
}

// For rows of very long inner extent, also split the inner loop across threads.
template <typename T, int N, typename Fn>
void for_each_chunk(const BroadcastPlan<N>& p, const std::array<T*, N>& base, Fn&& fn) {
  if (p.shape.size() == 1) {
    std::array<int64_t, N> in_st;
    for (int k = 0; k < N; ++k) in_st[k] = p.strides[k][0];
    parallel_for(p.shape[0], 1 << 15, [&](int64_t lo, int64_t hi) {
      std::array<T*, N> ptr = base;
      for (int k = 0; k < N; ++k) ptr[k] += lo * in_st[k];
      fn(hi - lo, ptr, in_st);
    });
  } else {
    for_each_row<T, N>(p, base, fn);
  }
}

}  // namespace kcore
