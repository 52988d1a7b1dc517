// bfloat16 GEMM with float32 accumulation (see gemm_bf16.h).
#include "cpu/gemm_bf16.h"

#include <algorithm>

#include "core/parallel.h"
#include "cpu/cpu_features.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define KCORE_HAVE_DPBF16 1
#define KCORE_DPBF16_TARGET __attribute__((target("avx512f,avx512bf16")))
#endif

namespace kcore::bfgemm {

namespace {

// Rows per micro-tile: 12 x 2 accumulators fill the 32 AVX-512 registers with vdpbf16ps; the
// emulation needs two more vectors per B vector (the widened halves).
constexpr int kMRDot = 12;
#if defined(__AVX512F__)
constexpr int kMREmu = 8;
#else
constexpr int kMREmu = 4;
#endif

inline int tile_rows(Bf16Path p) { return p == Bf16Path::avx512_bf16 ? kMRDot : kMREmu; }

inline uint32_t load_pair(const uint16_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Rows spread evenly over as few tiles as mr allows: tile t covers rows [start, start + rows).
struct Tiles {
  int64_t count, base, extra;
  Tiles(int64_t m, int mr) : count((m + mr - 1) / mr), base(count ? m / count : 0), extra(count ? m % count : 0) {}
  int64_t start(int64_t t) const { return t * base + std::min(t, extra); }
  int64_t rows(int64_t t) const { return base + (t < extra ? 1 : 0); }
};

// ---- emulation micro-kernel: bfloat16 widened in registers, float32 FMAs -----------------------
typedef uint32_t U32x16 __attribute__((vector_size(64)));
typedef float F32x16 __attribute__((vector_size(64)));

inline U32x16 load_u(const uint16_t* p) {
  U32x16 v;
  std::memcpy(&v, p, 64);
  return v;
}

inline F32x16 load_f(const float* p) {
  F32x16 v;
  std::memcpy(&v, p, 64);
  return v;
}

inline float bits_to_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// Writes columns [0, cols) of one tile row (two 16-column vectors) to c, adding to it with accumulate.
inline void store_row(float* c, F32x16 v0, F32x16 v1, int64_t cols, bool accumulate) {
  if (cols == kNR) {
    if (accumulate) {
      v0 += load_f(c);
      v1 += load_f(c + 16);
    }
    std::memcpy(c, &v0, 64);
    std::memcpy(c + 16, &v1, 64);
    return;
  }
  float tile[kNR];
  std::memcpy(tile, &v0, 64);
  std::memcpy(tile + 16, &v1, 64);
  for (int64_t j = 0; j < cols; ++j) c[j] = accumulate ? c[j] + tile[j] : tile[j];
}

template <int R>
void tile_emu(int64_t kp, const uint16_t* a, int64_t rs, int64_t ps, const uint16_t* bp, float* c, int64_t ldc,
              int64_t cols, bool accumulate) {
  F32x16 acc[R][2];
  for (int i = 0; i < R; ++i) acc[i][0] = acc[i][1] = F32x16{};
  const U32x16 hi_mask = U32x16{} + 0xffff0000u;
  for (int64_t q = 0; q < kp; ++q) {
    const U32x16 b0 = load_u(bp + q * 2 * kNR), b1 = load_u(bp + q * 2 * kNR + kNR);
    const F32x16 b0e = (F32x16)(b0 << 16), b0o = (F32x16)(b0 & hi_mask);
    const F32x16 b1e = (F32x16)(b1 << 16), b1o = (F32x16)(b1 & hi_mask);
    for (int i = 0; i < R; ++i) {
      const uint32_t v = load_pair(a + i * rs + q * ps);
      const float ae = bits_to_float(v << 16), ao = bits_to_float(v & 0xffff0000u);
      acc[i][0] += ae * b0e + ao * b0o;
      acc[i][1] += ae * b1e + ao * b1o;
    }
  }
  for (int i = 0; i < R; ++i) store_row(c + i * ldc, acc[i][0], acc[i][1], cols, accumulate);
}

// ---- vdpbf16ps micro-kernel ---------------------------------------------------------------------
#if defined(KCORE_HAVE_DPBF16)
template <int R>
KCORE_DPBF16_TARGET void tile_dot(int64_t kp, const uint16_t* a, int64_t rs, int64_t ps, const uint16_t* bp, float* c,
                                  int64_t ldc, int64_t cols, bool accumulate) {
  __m512 acc[R][2];
  for (int i = 0; i < R; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  for (int64_t q = 0; q < kp; ++q) {
    const __m512bh b0 = (__m512bh)_mm512_loadu_si512(bp + q * 2 * kNR);
    const __m512bh b1 = (__m512bh)_mm512_loadu_si512(bp + q * 2 * kNR + kNR);
    for (int i = 0; i < R; ++i) {
      const __m512bh av = (__m512bh)_mm512_set1_epi32(int(load_pair(a + i * rs + q * ps)));
      acc[i][0] = _mm512_dpbf16_ps(acc[i][0], av, b0);
      acc[i][1] = _mm512_dpbf16_ps(acc[i][1], av, b1);
    }
  }
  const __mmask16 m0 = cols >= 16 ? __mmask16(0xffff) : __mmask16((1u << cols) - 1);
  const __mmask16 m1 = cols >= 32 ? __mmask16(0xffff) : cols > 16 ? __mmask16((1u << (cols - 16)) - 1) : 0;
  for (int i = 0; i < R; ++i) {
    float* ci = c + i * ldc;
    if (accumulate) {
      acc[i][0] = _mm512_add_ps(acc[i][0], _mm512_maskz_loadu_ps(m0, ci));
      acc[i][1] = _mm512_add_ps(acc[i][1], _mm512_maskz_loadu_ps(m1, ci + 16));
    }
    _mm512_mask_storeu_ps(ci, m0, acc[i][0]);
    _mm512_mask_storeu_ps(ci + 16, m1, acc[i][1]);
  }
}
#endif

// One panel of C (cols columns at c), all tiles of A, with micro-kernel Tile<R> for R <= MR.
template <int MR, template <int> class Kernel>
void panel_tiles(const PackedA& a, const Tiles& tiles, const uint16_t* bp, float* c, int64_t ldc, int64_t cols,
                 bool accumulate) {
  for (int64_t t = 0; t < tiles.count; ++t) {
    const int64_t i = tiles.start(t), r = tiles.rows(t);
    int64_t rs, ps;
    const uint16_t* ap = a.tile(i, r, &rs, &ps);
    Kernel<MR>::dispatch(r, a.pairs(), ap, rs, ps, bp, c + i * ldc, ldc, cols, accumulate);
  }
}

// Kernel<R>::dispatch(r, ...) runs the r-row tile (r <= R) of a micro-kernel family.
#define KCORE_TILE_FAMILY(Name, fn) \
  template <int R> struct Name { \
    static void dispatch(int64_t r, int64_t kp, const uint16_t* a, int64_t rs, int64_t ps, const uint16_t* bp, \
                         float* c, int64_t ldc, int64_t cols, bool acc) { \
      if (r == R) return fn<R>(kp, a, rs, ps, bp, c, ldc, cols, acc); \
      if constexpr (R > 1) Name<R - 1>::dispatch(r, kp, a, rs, ps, bp, c, ldc, cols, acc); \
    } \
  };
KCORE_TILE_FAMILY(EmuTiles, tile_emu)
#if defined(KCORE_HAVE_DPBF16)
KCORE_TILE_FAMILY(DotTiles, tile_dot)
#endif
#undef KCORE_TILE_FAMILY

// op(src)[row][col] of a stored operand, as a typed pointer.
template <typename S> const S* at(const Operand& o, int64_t row, int64_t col) {
  const S* p = static_cast<const S*>(o.data);
  return o.trans ? p + col * o.ld + row : p + row * o.ld + col;
}

// Operand with op(result)[0][0] = op(o)[row][col].
Operand shifted(const Operand& o, int64_t row, int64_t col) {
  Operand r = o;
  r.data =
      o.f32 ? static_cast<const void*>(at<float>(o, row, col)) : static_cast<const void*>(at<uint16_t>(o, row, col));
  return r;
}

// dst[2 j] = a[j], dst[2 j + 1] = b[j] (0 where b is null), j < n: two K rows of a bfloat16
// operand as the pairs the micro-kernels read.
void interleave(const uint16_t* a, const uint16_t* b, int64_t n, uint16_t* dst) {
  uint32_t* out = reinterpret_cast<uint32_t*>(dst);
  if (b) {
    for (int64_t j = 0; j < n; ++j) out[j] = uint32_t(a[j]) | (uint32_t(b[j]) << 16);
  } else {
    for (int64_t j = 0; j < n; ++j) out[j] = a[j];
  }
}

// One panel (w <= kNR columns) from src, whose column 0 is the panel's first column.
void pack_b(const Operand& src, int64_t k, int64_t w, int64_t kp, uint16_t* dst) {
  const uint16_t* base = static_cast<const uint16_t*>(src.data);
  for (int64_t q = 0; q < kp; ++q) {
    uint16_t* row = dst + q * 2 * kNR;
    const bool odd = 2 * q + 1 < k;
    if (!src.trans) {  // rows 2q, 2q + 1 of the source, interleaved
      interleave(base + 2 * q * src.ld, odd ? base + (2 * q + 1) * src.ld : nullptr, w, row);
    } else {  // B[kk][j] = src[j ld + kk]: the pair is adjacent in the source
      for (int64_t j = 0; j < w; ++j) {
        const uint16_t* e = base + j * src.ld + 2 * q;
        row[2 * j] = e[0];
        row[2 * j + 1] = odd ? e[1] : uint16_t(0);
      }
    }
    std::fill(row + 2 * w, row + 2 * kNR, uint16_t(0));
  }
}

// op(src)[0:rows][0:cols] of a float32 operand rounded to bfloat16 into scratch (one bulk conversion
// per stored row), as a bfloat16 operand of the same orientation.
Operand rounded(const Operand& src, int64_t rows, int64_t cols, std::vector<uint16_t>& scratch) {
  const int64_t srows = src.trans ? cols : rows, scols = src.trans ? rows : cols;  // as stored
  scratch.resize(size_t(srows * scols));
  const float* p = static_cast<const float*>(src.data);
  for (int64_t r = 0; r < srows; ++r)
    float_to_bf16_ftz(p + r * src.ld, reinterpret_cast<bf16*>(scratch.data()) + r * scols, scols);
  return bf16_operand(scratch.data(), scols, src.trans);
}

// A transposed and bfloat16 (op(A)[i][kk] = src[kk ld + i]) into tiles: pair q of a tile's r rows is 2 r contiguous
// elements, two source rows interleaved.
void pack_a_tiles(const Operand& src, int64_t k, int64_t kp, const Tiles& tiles, uint16_t* dst) {
  const uint16_t* p = static_cast<const uint16_t*>(src.data);
  for (int64_t t = 0; t < tiles.count; ++t) {
    const int64_t i0 = tiles.start(t), r = tiles.rows(t);
    uint16_t* tile = dst + i0 * kp * 2;
    for (int64_t q = 0; q < kp; ++q)
      interleave(p + 2 * q * src.ld + i0, 2 * q + 1 < k ? p + (2 * q + 1) * src.ld + i0 : nullptr, r, tile + q * r * 2);
  }
}

// A untransposed into rows of 2 kp bfloat16 (K padded to even with a zero).
template <typename S> void pack_a_rows(const Operand& src, int64_t m, int64_t k, int64_t kp, uint16_t* dst) {
  const S* p = static_cast<const S*>(src.data);
  for (int64_t i = 0; i < m; ++i) {
    uint16_t* d = dst + i * 2 * kp;
    if constexpr (sizeof(S) == 4) float_to_bf16_ftz(p + i * src.ld, reinterpret_cast<bf16*>(d), k);
    else std::memcpy(d, p + i * src.ld, k * sizeof(uint16_t));
    if (k & 1) d[k] = 0;
  }
}

}  // namespace

void PackedB::resize(int64_t k, int64_t n) {
  k_ = k;
  n_ = n;
  data_.resize(size_t(panels() * pairs() * 2 * kNR));  // pack() writes every element, padding included
}

void PackedB::pack(const Operand& src, int64_t p0, int64_t p1) {
  if (p1 <= p0) return;
  const int64_t j0 = p0 * kNR, cols = std::min(n_, p1 * kNR) - j0;
  thread_local std::vector<uint16_t> scratch;  // threads pack disjoint panels concurrently
  const Operand s = src.f32 ? rounded(shifted(src, 0, j0), k_, cols, scratch) : shifted(src, 0, j0);
  for (int64_t p = p0; p < p1; ++p)
    pack_b(shifted(s, 0, (p - p0) * kNR), k_, std::min<int64_t>(kNR, n_ - p * kNR), pairs(), panel_mut(p));
}

void PackedA::pack(const Operand& src, int64_t m, int64_t k) {
  m_ = m;
  k_ = k;
  path_ = bf16_path();
  tiled_ = src.trans;
  if (!src.f32 && !src.trans && k % 2 == 0) {
    direct_ = static_cast<const uint16_t*>(src.data);
    ld_ = src.ld;
    return;
  }
  direct_ = nullptr;
  ld_ = 2 * pairs();
  data_.resize(size_t(m * ld_));
  if (tiled_) {
    thread_local std::vector<uint16_t> scratch;
    pack_a_tiles(src.f32 ? rounded(src, m, k, scratch) : src, k, pairs(), Tiles(m, tile_rows(path_)), data_.data());
  } else if (src.f32) {
    pack_a_rows<float>(src, m, k, pairs(), data_.data());
  } else {
    pack_a_rows<uint16_t>(src, m, k, pairs(), data_.data());
  }
}

const uint16_t* PackedA::tile(int64_t i, int64_t r, int64_t* row_step, int64_t* pair_step) const {
  if (!tiled_) {  // row-major pairs, in place or converted
    *row_step = ld_;
    *pair_step = 2;
    return (direct_ ? direct_ : data_.data()) + i * ld_;
  }
  *row_step = 2;
  *pair_step = 2 * r;
  return data_.data() + i * pairs() * 2;
}

void gemm_panels_into(const PackedB& b, int64_t p0, int64_t p1, const PackedA& a, float* c, int64_t ldc,
                      bool accumulate) {
  const Bf16Path path = a.path();
  const Tiles tiles(a.m(), tile_rows(path));
  for (int64_t p = p0; p < p1; ++p) {
    const int64_t cols = std::min<int64_t>(kNR, b.n() - p * kNR);
    float* cp = c + (p - p0) * kNR;
#if defined(KCORE_HAVE_DPBF16)
    if (path == Bf16Path::avx512_bf16) {
      panel_tiles<kMRDot, DotTiles>(a, tiles, b.panel(p), cp, ldc, cols, accumulate);
      continue;
    }
#endif
    panel_tiles<kMREmu, EmuTiles>(a, tiles, b.panel(p), cp, ldc, cols, accumulate);
  }
}

void gemm_panels(const PackedB& b, int64_t p0, int64_t p1, const PackedA& a, float* c, int64_t ldc, bool accumulate) {
  gemm_panels_into(b, p0, p1, a, c + p0 * kNR, ldc, accumulate);
}

void gemm(int64_t m, int64_t n, int64_t k, const Operand& a, const Operand& b, float* c, int64_t ldc, bool accumulate) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    if (!accumulate)
      for (int64_t i = 0; i < m; ++i) std::memset(c + i * ldc, 0, n * sizeof(float));
    return;
  }
  constexpr int64_t kKC = 512, kMC = 192;  // K block (even: whole pairs), row block
  const int64_t panels = (n + kNR - 1) / kNR;
  const int64_t avail = omp_in_parallel() ? 1 : num_threads();
  // Columns split over threads unless there are too few panels for the team and rows to spare.
  const bool by_rows = panels < 2 * avail && m >= 4 * kMC;
  const int64_t units = by_rows ? (m + kMC - 1) / kMC : panels;
  const int nt = int(std::max<int64_t>(1, std::min(avail, units)));
#pragma omp parallel num_threads(nt)
  {
    const int tid = omp_get_thread_num(), team = omp_get_num_threads();
    const int64_t u0 = units * tid / team, u1 = units * (tid + 1) / team;
    const int64_t r0 = by_rows ? std::min(m, u0 * kMC) : 0, r1 = by_rows ? std::min(m, u1 * kMC) : m;
    const int64_t j0 = by_rows ? 0 : u0 * kNR, j1 = by_rows ? n : std::min(n, u1 * kNR);
    PackedB block;
    PackedA rows;
    for (int64_t k0 = 0; k0 < k && j1 > j0 && r1 > r0; k0 += kKC) {
      const int64_t kc = std::min(kKC, k - k0);
      block.resize(kc, j1 - j0);
      block.pack_all(shifted(b, k0, j0));
      const bool acc = accumulate || k0 > 0;
      for (int64_t i0 = r0; i0 < r1; i0 += kMC) {
        const int64_t mc = std::min(kMC, r1 - i0);
        rows.pack(shifted(a, i0, k0), mc, kc);
        gemm_panels(block, 0, block.panels(), rows, c + i0 * ldc + j0, ldc, acc);
      }
    }
  }
}

}  // namespace kcore::bfgemm
