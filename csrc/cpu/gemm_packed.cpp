// Packed-B float32 GEMM (see gemm_packed.h).
#include "cpu/gemm_packed.h"

#include <algorithm>
#include <cstring>

#include "core/parallel.h"

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
// A is read as A[i][kk] = a[i lda + kk], or with TA (A stored transposed) a[kk lda + i].
template <int MR, bool TA>
void micro_tile(int64_t k, const float* a, int64_t lda, const float* bp, float* c, int64_t ldc, int64_t c_lo,
                int64_t c_hi, bool accumulate) {
  Vec acc[MR][2];
  for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = Vec{};
  for (int64_t kk = 0; kk < k; ++kk) {
    const Vec b0 = load(bp + kk * kNR), b1 = load(bp + kk * kNR + kVec);
    for (int i = 0; i < MR; ++i) {
      const float ai = TA ? a[kk * lda + i] : a[i * lda + kk];
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

template <int MR, bool TA>
void rows_tail(int64_t rows, int64_t k, const float* a, int64_t lda, const float* bp, float* c, int64_t ldc,
               int64_t c_lo, int64_t c_hi, bool accumulate) {
  if constexpr (MR > 0) {
    if (rows == MR) return micro_tile<MR, TA>(k, a, lda, bp, c, ldc, c_lo, c_hi, accumulate);
    rows_tail<MR - 1, TA>(rows, k, a, lda, bp, c, ldc, c_lo, c_hi, accumulate);
  }
}

// Columns [c_lo, c_hi) of panel p (offsets inside the panel), all m rows; cp is the panel's first column in C.
template <bool TA = false>
void panel_rows(const PackedMatrix& b, int64_t p, int64_t c_lo, int64_t c_hi, int64_t m, const float* a, int64_t lda,
                float* cp, int64_t ldc, bool accumulate) {
  const float* bp = b.panel(p);
  const int64_t row_step = TA ? 1 : lda;  // from row i to row i + 1 of A
  // As few tiles as kMR allows, with rows spread evenly (64 rows: 6 tiles of 10-11, not 5 x 12 + 4).
  const int64_t tiles = (m + kMR - 1) / kMR;
  for (int64_t t = 0, i = 0; t < tiles; ++t) {
    const int64_t rows = m / tiles + (t < m % tiles ? 1 : 0);
    rows_tail<kMR, TA>(rows, b.k(), a + i * row_step, lda, bp, cp + i * ldc, ldc, c_lo, c_hi, accumulate);
    i += rows;
  }
}

}  // namespace

void PackedMatrix::resize(int64_t k, int64_t n) {
  k_ = k;
  n_ = n;
  data_.resize(size_t(panels() * k * kNR));  // pack() writes every element, padding included
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
    panel_rows(b, p, 0, std::min<int64_t>(kNR, b.n() - p * kNR), m, a, lda, c + p * kNR, ldc, accumulate);
}

void gemm_panels_into(const PackedMatrix& b, int64_t p0, int64_t p1, int64_t m, const float* a, int64_t lda, float* c,
                      int64_t ldc, bool accumulate) {
  for (int64_t p = p0; p < p1; ++p)
    panel_rows(b, p, 0, std::min<int64_t>(kNR, b.n() - p * kNR), m, a, lda, c + (p - p0) * kNR, ldc, accumulate);
}

void gemm_columns(const PackedMatrix& b, int64_t c0, int64_t c1, int64_t m, const float* a, int64_t lda, float* c,
                  int64_t ldc, bool accumulate) {
  for (int64_t j = c0; j < c1;) {
    const int64_t p = j / kNR, lo = j - p * kNR, hi = std::min<int64_t>(kNR, c1 - p * kNR);
    panel_rows(b, p, lo, hi, m, a, lda, c + p * kNR, ldc, accumulate);
    j = p * kNR + hi;
  }
}

void gemm_packed_b(bool trans_a, int64_t m, const float* a, int64_t lda, const PackedMatrix& b, float* c, int64_t ldc,
                   bool accumulate) {
  constexpr int64_t kMC = 192;  // row block (A block in L2)
  for (int64_t i0 = 0; i0 < m; i0 += kMC) {
    const int64_t mc = std::min(kMC, m - i0);
    const float* ai = trans_a ? a + i0 : a + i0 * lda;
    float* ci = c + i0 * ldc;
    for (int64_t p = 0; p < b.panels(); ++p) {
      const int64_t hi = std::min<int64_t>(kNR, b.n() - p * kNR);
      if (trans_a) panel_rows<true>(b, p, 0, hi, mc, ai, lda, ci + p * kNR, ldc, accumulate);
      else panel_rows<false>(b, p, 0, hi, mc, ai, lda, ci + p * kNR, ldc, accumulate);
    }
  }
}

void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
          int64_t ldb, float* c, int64_t ldc, bool accumulate) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    if (!accumulate)
      for (int64_t i = 0; i < m; ++i) std::memset(c + i * ldc, 0, n * sizeof(float));
    return;
  }
  const int64_t panels = (n + kNR - 1) / kNR;
  const int nt = omp_in_parallel() ? 1 : int(std::max<int64_t>(1, std::min<int64_t>(num_threads(), panels)));
  if (nt == 1) return gemm_on_thread(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
#pragma omp parallel num_threads(nt)
  {
    const int tid = omp_get_thread_num(), team = omp_get_num_threads();
    const int64_t p0 = panels * tid / team, p1 = panels * (tid + 1) / team;
    const int64_t j0 = p0 * kNR, cols = std::min(n, p1 * kNR) - j0;  // this thread's columns
    if (cols > 0)
      gemm_on_thread(trans_a, trans_b, m, cols, k, a, lda, trans_b ? b + j0 * ldb : b + j0, ldb, c + j0, ldc,
                     accumulate);
  }
}

void gemm_on_thread(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                    const float* b, int64_t ldb, float* c, int64_t ldc, bool accumulate, PackedMatrix* scratch) {
  PackedMatrix own;
  PackedMatrix& block = scratch ? *scratch : own;
  if (k == 0 && !accumulate)
    for (int64_t i = 0; i < m; ++i) std::memset(c + i * ldc, 0, n * sizeof(float));
  for (int64_t k0 = 0; k0 < k && n > 0; k0 += kKC) {
    const int64_t kc = std::min(kKC, k - k0);
    block.resize(kc, n);
    block.pack_all(trans_b ? b + k0 : b + k0 * ldb, ldb, trans_b);
    gemm_packed_b(trans_a, m, trans_a ? a + k0 * lda : a + k0, lda, block, c, ldc, accumulate || k0 > 0);
  }
}

}  // namespace kcore::packed
