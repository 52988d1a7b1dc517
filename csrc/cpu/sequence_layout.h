// Layout helpers shared by the whole-sequence recurrent kernels (rnn.cpp, conv_lstm.cpp): the
// (B, T) mask in processed order, moving per-step frames between batch-major (B, T, ...) and
// time-major processed order (T, B, ...), and initial states.
#pragma once
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/tensor.h"

namespace kcore::sequence {

// mask (B, T) of any dtype -> (T, B) bytes in processed order; empty when every step is valid.
inline std::vector<uint8_t> processed_mask(const Tensor& mask_in, int64_t b, int64_t t, bool reverse) {
  if (!mask_in.defined()) return {};
  Tensor m = mask_in.contiguous();
  std::vector<uint8_t> out(t * b);
  bool all = true;
  dispatch_all(m.dtype(), [&](auto tag) {
    using M = decltype(tag);
    const M* p = m.data<M>();
    for (int64_t i = 0; i < b; ++i)
      for (int64_t s = 0; s < t; ++s) {
        const int64_t src = reverse ? t - 1 - s : s;
        out[s * b + i] = p[i * t + src] != M(0);
        all = all && out[s * b + i];
      }
  });
  if (all) out.clear();
  return out;
}

// (B, T, F) <-> (T, B, F) with optional time reversal (F = elements per frame); to_time_major
// reads (B, T, F), else writes it.
template <typename T>
void permute_time(const T* src, T* dst, int64_t b, int64_t t, int64_t f, bool reverse, bool to_time_major) {
  for (int64_t s = 0; s < t; ++s) {  // memory-bound and next to BLAS calls: stays on this thread
    const int64_t tt = reverse ? t - 1 - s : s;
    for (int64_t i = 0; i < b; ++i) {
      const T* from = to_time_major ? src + (i * t + tt) * f : src + (s * b + i) * f;
      T* to = to_time_major ? dst + (s * b + i) * f : dst + (i * t + tt) * f;
      std::memcpy(to, from, f * sizeof(T));
    }
  }
}

// n elements of src (made contiguous) into dst, or zeros when src is undefined (zero initial states).
template <typename T> void copy_or_zero(T* dst, const Tensor& src, int64_t n) {
  if (src.defined()) std::memcpy(dst, src.contiguous().data<T>(), n * sizeof(T));
  else std::memset(dst, 0, n * sizeof(T));
}

}  // namespace kcore::sequence
