// Packed-B float32 GEMM (see gemm_packed.h).
#include "cpu/gemm_packed.h"

#include <algorithm>
#include <cstring>

namespace kcore::packed {

namespace {

typedef float Vec __attribute__((vector_size(kVec * sizeof(float))));

inline Vec load(const float* p) {
  Vec v;
  std::memcpy(&v, p, sizeof(Vec));
  return v;
}

inline void store(float* p, Vec v) { std::memcpy(p, &v, sizeof(Vec)); }

// One MR x kNR tile of C from rows a[0..MR) and one packed panel; `cols` <= kNR are written.
template <int MR>
void micro_tile(int64_t k, const float* a, int64_t lda, const float* bp, float* c, int64_t ldc, int64_t c_lo,
                int64_t c_hi, bool accumulate) {
  Vec acc[MR][2];
  for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = Vec{};
  for (int64_t kk = 0; kk < k; ++kk) {
    const Vec b0 = load(bp + kk * kNR), b1 = load(bp + kk * kNR + kVec);
    for (int i = 0; i < MR; ++i) {
      const float ai = a[i * lda + kk];
      acc[i][0] += ai * b0;
      acc[i][1] += ai * b1;
    }
  }
  if (c_lo == 0 && c_hi == kNR) {
    for (int i = 0; i < MR; ++i) {
      float* ci = c + i * ldc;
      if (accumulate) {
        store(ci, load(ci) + acc[i][0]);
        store(ci + kVec, load(ci + kVec) + acc[i][1]);
      } else {
        store(ci, acc[i][0]);
        store(ci + kVec, acc[i][1]);
      }
    }
    return;
  }
  for (int i = 0; i < MR; ++i) {  // a partial panel: through a buffer
    float tile[kNR];
    store(tile, acc[i][0]);
    store(tile + kVec, acc[i][1]);
    float* ci = c + i * ldc;
    for (int64_t j = c_lo; j < c_hi; ++j) ci[j] = accumulate ? ci[j] + tile[j] : tile[j];
  }
}

template <int MR>
void rows_tail(int64_t rows, int64_t k, const float* a, int64_t lda, const float* bp, float* c, int64_t ldc,
               int64_t c_lo, int64_t c_hi, bool accumulate) {
  if constexpr (MR > 0) {
    if (rows == MR) return micro_tile<MR>(k, a, lda, bp, c, ldc, c_lo, c_hi, accumulate);
    rows_tail<MR - 1>(rows, k, a, lda, bp, c, ldc, c_lo, c_hi, accumulate);
  }
}

// Columns [c_lo, c_hi) of panel p (offsets inside the panel), all m rows.
void panel_rows(const PackedMatrix& b, int64_t p, int64_t c_lo, int64_t c_hi, int64_t m, const float* a,
                int64_t lda, float* c, int64_t ldc, bool accumulate) {
  const float* bp = b.panel(p);
  float* cp = c + p * kNR;
  int64_t i = 0;
  for (; i + kMR <= m; i += kMR)
    micro_tile<kMR>(b.k(), a + i * lda, lda, bp, cp + i * ldc, ldc, c_lo, c_hi, accumulate);
  if (i < m) rows_tail<kMR - 1>(m - i, b.k(), a + i * lda, lda, bp, cp + i * ldc, ldc, c_lo, c_hi, accumulate);
}

}  // namespace

void PackedMatrix::resize(int64_t k, int64_t n) {
  k_ = k;
  n_ = n;
  data_.assign(size_t(panels() * k * kNR), 0.0f);
}

void PackedMatrix::pack(const float* src, int64_t ld, bool trans, int64_t p0, int64_t p1) {
  for (int64_t p = p0; p < p1; ++p) {
    float* dst = panel(p);
    const int64_t j0 = p * kNR, w = std::min<int64_t>(kNR, n_ - j0);
    for (int64_t kk = 0; kk < k_; ++kk) {
      float* row = dst + kk * kNR;
      if (trans) {
        for (int64_t j = 0; j < w; ++j) row[j] = src[(j0 + j) * ld + kk];
      } else {
        std::memcpy(row, src + kk * ld + j0, w * sizeof(float));
      }
      for (int64_t j = w; j < kNR; ++j) row[j] = 0.0f;
    }
  }
}

void gemm_panels(const PackedMatrix& b, int64_t p0, int64_t p1, int64_t m, const float* a, int64_t lda, float* c,
                 int64_t ldc, bool accumulate) {
  for (int64_t p = p0; p < p1; ++p)
    panel_rows(b, p, 0, std::min<int64_t>(kNR, b.n() - p * kNR), m, a, lda, c, ldc, accumulate);
}

void gemm_columns(const PackedMatrix& b, int64_t c0, int64_t c1, int64_t m, const float* a, int64_t lda, float* c,
                  int64_t ldc, bool accumulate) {
  for (int64_t j = c0; j < c1;) {
    const int64_t p = j / kNR, lo = j - p * kNR, hi = std::min<int64_t>(kNR, c1 - p * kNR);
    panel_rows(b, p, lo, hi, m, a, lda, c, ldc, accumulate);
    j = p * kNR + hi;
  }
}

}  // namespace kcore::packed
