// Winograd F(4x4, 3x3) (Lavin & Gray 2016) for float32 3x3 stride-1 undilated 2-D convs, channels_last.
//
// A 4x4 block of outputs ("tile") comes from a 6x6 input patch d:
//   Y = A^T [ sum_c (G g G^T)_c .* (B^T d B)_c ] A
// so 36 multiplies per tile, channel and filter replace 144 (4x fewer). The sums over channels are
// 36 small GEMMs, one per transform point xi:   M[xi] (tiles x F) = V[xi] (tiles x C) @ U[xi] (C x F).
// Fused per cache block: each worker takes a run of tiles, and for a chunk of them at a time
// transforms the input patches into its own bounded buffer V, runs the 36 GEMMs into M with a
// register-blocked micro-kernel while V is in cache, and inverse-transforms M straight into y.
// The kernel gradient is the same algorithm transposed:
//   dg = G^T [ sum_tiles (A dy A^T) .* (B^T d B) ] G
// i.e. per point xi, dU[xi] (C x F) += V[xi]^T @ Ydy[xi], accumulated per worker then reduced.
// Interpolation points 0, +-1, +-2 (and infinity); float32 error is about 10x that of direct
// summation (measured in tests/test_conv_winograd4.py).
#include "cpu/conv_winograd4.h"

#include <algorithm>
#include <cstring>
#include <vector>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "core/parallel.h"
#include "cpu/conv_workers.h"

namespace kcore {

namespace {

constexpr int kPoints = 36;
constexpr int kLanes = 16;                            // channels transformed at once (one AVX-512 vector)
constexpr int64_t kChunkBytes = int64_t(384) << 10;   // V + M of one chunk: about half an L2 cache
constexpr int64_t kKernelCacheBytes = int64_t(1) << 20;  // U or dU above this streams from L3
constexpr int64_t kMinRowsStreaming = 48;          // chunk tiles when U or dU does not stay in cache
constexpr int64_t kMinMacsPerWorker = int64_t(1) << 21;

// ---- small GEMM: C[rows x cols] (+)= A[rows x K] @ B[K x cols], A(r, k) = a[r * ars + k * aks] ----

#if defined(__AVX512F__)
constexpr int kMr = 6, kNv = 4;  // 6 rows x 64 columns of accumulators: 24 of the 32 vector registers

template <int R, int NV>
void micro(int64_t K, const float* a, int64_t ars, int64_t aks, const float* b, int64_t ldb, float* c, int64_t ldc,
           __mmask16 last, bool accumulate) {
  __m512 s[R][NV];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) {
      const __mmask16 m = j == NV - 1 ? last : __mmask16(0xFFFF);
      s[r][j] = accumulate ? _mm512_maskz_loadu_ps(m, c + r * ldc + 16 * j) : _mm512_setzero_ps();
    }
  for (int64_t k = 0; k < K; ++k) {
    __m512 bv[NV];
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j)
      bv[j] = j == NV - 1 ? _mm512_maskz_loadu_ps(last, b + k * ldb + 16 * j) : _mm512_loadu_ps(b + k * ldb + 16 * j);
    const float* ak = a + k * aks;
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m512 av = _mm512_set1_ps(ak[r * ars]);
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) s[r][j] = _mm512_fmadd_ps(av, bv[j], s[r][j]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j)
      _mm512_mask_storeu_ps(c + r * ldc + 16 * j, j == NV - 1 ? last : __mmask16(0xFFFF), s[r][j]);
}

using MicroFn = void (*)(int64_t, const float*, int64_t, int64_t, const float*, int64_t, float*, int64_t, __mmask16,
                         bool);

template <int R>
constexpr MicroFn micro_row(int nv) {
  return nv == 1 ? micro<R, 1> : nv == 2 ? micro<R, 2> : nv == 3 ? micro<R, 3> : micro<R, 4>;
}

MicroFn micro_for(int r, int nv) {
  switch (r) {
    case 1: return micro_row<1>(nv);
    case 2: return micro_row<2>(nv);
    case 3: return micro_row<3>(nv);
    case 4: return micro_row<4>(nv);
    case 5: return micro_row<5>(nv);
    default: return micro_row<6>(nv);
  }
}

void small_gemm(int64_t rows, int64_t cols, int64_t K, const float* a, int64_t ars, int64_t aks, const float* b,
                int64_t ldb, float* c, int64_t ldc, bool accumulate) {
  for (int64_t f0 = 0; f0 < cols; f0 += 16 * kNv) {
    const int64_t width = std::min<int64_t>(16 * kNv, cols - f0);
    const int nv = int((width + 15) / 16);
    const int tail = int(width - 16 * (nv - 1));
    const __mmask16 last = __mmask16((1u << tail) - 1u);
    for (int64_t r0 = 0; r0 < rows; r0 += kMr) {
      const int r = int(std::min<int64_t>(kMr, rows - r0));
      micro_for(r, nv)(K, a + r0 * ars, ars, aks, b + f0, ldb, c + r0 * ldc + f0, ldc, last, accumulate);
    }
  }
}
#else
// Portable version: the compiler vectorises the column loop.
void small_gemm(int64_t rows, int64_t cols, int64_t K, const float* a, int64_t ars, int64_t aks, const float* b,
                int64_t ldb, float* c, int64_t ldc, bool accumulate) {
  for (int64_t r = 0; r < rows; ++r) {
    float* cr = c + r * ldc;
    if (!accumulate) std::fill(cr, cr + cols, 0.f);
    for (int64_t k = 0; k < K; ++k) {
      const float av = a[r * ars + k * aks];
      const float* bk = b + k * ldb;
      for (int64_t j = 0; j < cols; ++j) cr[j] += av * bk[j];
    }
  }
}
#endif

// ---- the transforms, applied to `nl` (<= kLanes) channels at a time ----

// (B^T d B) of a 6x6 patch: src[k] points at patch cell k (row-major), out[xi * plane] receives point xi.
__attribute__((always_inline)) inline void input_transform(const float* const* src, float* out, int64_t plane,
                                                           int nl) {
  float t[kPoints][kLanes];
  for (int j = 0; j < 6; ++j) {
    const float *d0 = src[j], *d1 = src[6 + j], *d2 = src[12 + j], *d3 = src[18 + j], *d4 = src[24 + j],
                *d5 = src[30 + j];
    for (int l = 0; l < nl; ++l) {  // columns: t = B^T d
      const float a0 = d0[l], a1 = d1[l], a2 = d2[l], a3 = d3[l], a4 = d4[l], a5 = d5[l];
      t[j][l] = 4.f * a0 - 5.f * a2 + a4;
      t[6 + j][l] = a3 + a4 - 4.f * (a1 + a2);
      t[12 + j][l] = 4.f * (a1 - a2) + a4 - a3;
      t[18 + j][l] = 2.f * (a3 - a1) + a4 - a2;
      t[24 + j][l] = 2.f * (a1 - a3) + a4 - a2;
      t[30 + j][l] = 4.f * a1 - 5.f * a3 + a5;
    }
  }
  for (int i = 0; i < 6; ++i) {
    const float(*r)[kLanes] = t + 6 * i;
    float* o = out + 6 * i * plane;
    for (int l = 0; l < nl; ++l) {  // rows: (B^T d) B
      const float a0 = r[0][l], a1 = r[1][l], a2 = r[2][l], a3 = r[3][l], a4 = r[4][l], a5 = r[5][l];
      o[l] = 4.f * a0 - 5.f * a2 + a4;
      o[plane + l] = a3 + a4 - 4.f * (a1 + a2);
      o[2 * plane + l] = 4.f * (a1 - a2) + a4 - a3;
      o[3 * plane + l] = 2.f * (a3 - a1) + a4 - a2;
      o[4 * plane + l] = 2.f * (a1 - a3) + a4 - a2;
      o[5 * plane + l] = 4.f * a1 - 5.f * a3 + a5;
    }
  }
}

// A^T m A of the 36 points m[xi * plane] into the 4x4 outputs dst[r * 4 + c] (null: outside the output).
__attribute__((always_inline)) inline void output_transform(const float* m, int64_t plane, float* const* dst,
                                                            const float* bias, int nl) {
  float s[24][kLanes];
  for (int j = 0; j < 6; ++j) {
    const float* mj = m + j * plane;
    for (int l = 0; l < nl; ++l) {  // columns: s = A^T m
      const float a0 = mj[l], a1 = mj[6 * plane + l], a2 = mj[12 * plane + l], a3 = mj[18 * plane + l],
                  a4 = mj[24 * plane + l], a5 = mj[30 * plane + l];
      s[j][l] = a0 + a1 + a2 + a3 + a4;
      s[6 + j][l] = a1 - a2 + 2.f * (a3 - a4);
      s[12 + j][l] = a1 + a2 + 4.f * (a3 + a4);
      s[18 + j][l] = a1 - a2 + 8.f * (a3 - a4) + a5;
    }
  }
  for (int i = 0; i < 4; ++i) {
    const float(*r)[kLanes] = s + 6 * i;
    float o[4][kLanes];
    for (int l = 0; l < nl; ++l) {  // rows: (A^T m) A
      const float a0 = r[0][l], a1 = r[1][l], a2 = r[2][l], a3 = r[3][l], a4 = r[4][l], a5 = r[5][l];
      const float b = bias ? bias[l] : 0.f;
      o[0][l] = a0 + a1 + a2 + a3 + a4 + b;
      o[1][l] = a1 - a2 + 2.f * (a3 - a4) + b;
      o[2][l] = a1 + a2 + 4.f * (a3 + a4) + b;
      o[3][l] = a1 - a2 + 8.f * (a3 - a4) + a5 + b;
    }
    for (int c = 0; c < 4; ++c)
      if (float* d = dst[i * 4 + c]) std::memcpy(d, o[c], nl * sizeof(float));
  }
}

// A e A^T of a 4x4 output-gradient block: src[r * 4 + c] (zeros outside), out[xi * plane].
__attribute__((always_inline)) inline void grad_transform(const float* const* src, float* out, int64_t plane, int nl) {
  float t[24][kLanes];  // t[i * 4 + c] = (A e)[i][c]
  for (int c = 0; c < 4; ++c) {
    const float *e0 = src[c], *e1 = src[4 + c], *e2 = src[8 + c], *e3 = src[12 + c];
    for (int l = 0; l < nl; ++l) {
      const float a0 = e0[l], a1 = e1[l], a2 = e2[l], a3 = e3[l];
      t[c][l] = a0;
      t[4 + c][l] = a0 + a1 + a2 + a3;
      t[8 + c][l] = a0 - a1 + a2 - a3;
      t[12 + c][l] = a0 + 2.f * a1 + 4.f * a2 + 8.f * a3;
      t[16 + c][l] = a0 - 2.f * a1 + 4.f * a2 - 8.f * a3;
      t[20 + c][l] = a3;
    }
  }
  for (int i = 0; i < 6; ++i) {
    const float(*r)[kLanes] = t + 4 * i;
    float* o = out + 6 * i * plane;
    for (int l = 0; l < nl; ++l) {
      const float a0 = r[0][l], a1 = r[1][l], a2 = r[2][l], a3 = r[3][l];
      o[l] = a0;
      o[plane + l] = a0 + a1 + a2 + a3;
      o[2 * plane + l] = a0 - a1 + a2 - a3;
      o[3 * plane + l] = a0 + 2.f * a1 + 4.f * a2 + 8.f * a3;
      o[4 * plane + l] = a0 - 2.f * a1 + 4.f * a2 - 8.f * a3;
      o[5 * plane + l] = a3;
    }
  }
}

constexpr double kG[6][3] = {{1.0 / 4, 0, 0},           {-1.0 / 6, -1.0 / 6, -1.0 / 6}, {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                             {1.0 / 24, 1.0 / 12, 1.0 / 6}, {1.0 / 24, -1.0 / 12, 1.0 / 6}, {0, 0, 1}};

// U[xi][c][f] = (G g G^T)[xi] for the Keras kernel g (3, 3, C, F).
void transform_kernel(const float* g, int64_t C, int64_t F, float* u) {
  const int64_t CF = C * F;
  for (int xi = 0; xi < kPoints; ++xi) {
    float* dst = u + xi * CF;
    std::fill(dst, dst + CF, 0.f);
    for (int tap = 0; tap < 9; ++tap) {
      const float coef = float(kG[xi / 6][tap / 3] * kG[xi % 6][tap % 3]);
      if (coef == 0.f) continue;
      const float* src = g + tap * CF;
      for (int64_t q = 0; q < CF; ++q) dst[q] += coef * src[q];
    }
  }
}

struct Grid {
  int64_t n, h, w, c, f, pad_top, pad_left, oh, ow, th, tw;
  int64_t tiles() const { return n * th * tw; }
  // image, first input row and column of tile t's 6x6 patch (may lie in the padding)
  void locate(int64_t t, int64_t& img, int64_t& y0, int64_t& x0) const {
    img = t / (th * tw);
    const int64_t rem = t % (th * tw);
    y0 = (rem / tw) * 4;
    x0 = (rem % tw) * 4;
  }
};

Grid make_grid(int64_t n, int64_t h, int64_t w, int64_t c, int64_t f, int64_t pt, int64_t pl, int64_t oh, int64_t ow) {
  return Grid{n, h, w, c, f, pt, pl, oh, ow, (oh + 3) / 4, (ow + 3) / 4};
}

// Transforms the patch of tile t (channels of x) into row `row` of V (36 planes of rows x C).
void gather_input(const Grid& g, const float* x, const float* zeros, int64_t t, int64_t row, int64_t rows,
                  float* v) {
  int64_t img, y0, x0;
  g.locate(t, img, y0, x0);
  y0 -= g.pad_top;
  x0 -= g.pad_left;
  const int64_t C = g.c, plane = rows * C;
  const float* src[kPoints];
  for (int i = 0; i < 6; ++i)
    for (int j = 0; j < 6; ++j) {
      const int64_t yy = y0 + i, xx = x0 + j;
      const bool inside = yy >= 0 && yy < g.h && xx >= 0 && xx < g.w;
      src[i * 6 + j] = inside ? x + ((img * g.h + yy) * g.w + xx) * C : zeros;
    }
  float* out = v + row * C;
  int64_t q = 0;
  for (; q + kLanes <= C; q += kLanes) {
    const float* s[kPoints];
    for (int k = 0; k < kPoints; ++k) s[k] = src[k] + q;
    input_transform(s, out + q, plane, kLanes);
  }
  if (q < C) {
    const float* s[kPoints];
    for (int k = 0; k < kPoints; ++k) s[k] = src[k] + q;
    input_transform(s, out + q, plane, int(C - q));
  }
}

// Chunks of tiles per worker, and the worker split.
struct Split {
  int threads;
  int64_t step;
};

// A chunk's V + M (or V + dY) should stay in L2 while the 36 GEMMs run, but each chunk also streams
// the transformed kernel U (forward) or updates the accumulators dU (kernel gradient), 36 C x F
// matrices: when those outgrow their share of L2, larger chunks amortise that traffic over more tiles.
Split split_tiles(int64_t tiles, int64_t c, int64_t f) {
  Split sp;
  const double macs = double(tiles) * kPoints * double(c) * double(f);
  sp.threads = omp_in_parallel() ? 1 : (int)std::max<int64_t>(1, std::min<int64_t>({(int64_t)num_threads(),
                                                                 (int64_t)(macs / kMinMacsPerWorker), tiles}));
  const int64_t per_tile = kPoints * (c + f) * int64_t(sizeof(float));
  int64_t step = std::max<int64_t>(6, kChunkBytes / per_tile / 6 * 6);
  const bool big_kernel = kPoints * c * f * int64_t(sizeof(float)) > kKernelCacheBytes;
  if (big_kernel) step = std::max<int64_t>(step, kMinRowsStreaming);
  sp.step = std::max<int64_t>(1, std::min(step, (tiles + sp.threads - 1) / sp.threads));
  return sp;
}

// Per-worker floats: V and M (or dY) of a chunk, and a zero row of max(C, F) channels.
int64_t per_worker_floats(const Split& sp, int64_t c, int64_t f) {
  return sp.step * kPoints * (c + f) + std::max(c, f);
}

// A buffer kept by the calling thread across calls (a fresh multi-MiB one would page-fault every call).
float* scratch(int64_t floats) {
  thread_local std::vector<float> buffer;
  if ((int64_t)buffer.size() < floats) {
    buffer.clear();
    buffer.shrink_to_fit();
    buffer.resize(floats);
  }
  return buffer.data();
}

}  // namespace

int64_t winograd4_tiles(int64_t n, int64_t oh, int64_t ow) { return n * ((oh + 3) / 4) * ((ow + 3) / 4); }

int64_t winograd4_workspace_bytes(int64_t n, int64_t oh, int64_t ow, int64_t c, int64_t f, bool kernel_grad) {
  const int64_t tiles = winograd4_tiles(n, oh, ow);
  if (tiles == 0) return 0;
  const Split sp = split_tiles(tiles, c, f);
  const int64_t accumulators = kernel_grad ? sp.threads * kPoints * c * f : kPoints * c * f;
  return (sp.threads * per_worker_floats(sp, c, f) + accumulators) * int64_t(sizeof(float));
}

void winograd4_conv3x3(const float* x, int64_t n, int64_t h, int64_t w, int64_t c, const float* kernel, int64_t f,
                       int64_t pad_top, int64_t pad_left, int64_t oh, int64_t ow, const float* bias, float* y) {
  const Grid g = make_grid(n, h, w, c, f, pad_top, pad_left, oh, ow);
  const int64_t tiles = g.tiles();
  if (tiles == 0) return;
  const Split sp = split_tiles(tiles, c, f);
  const int64_t per_worker = per_worker_floats(sp, c, f);
  float* u = scratch(kPoints * c * f + sp.threads * per_worker);
  float* buffers = u + kPoints * c * f;
  transform_kernel(kernel, c, f, u);
  conv_detail::run_split(sp.threads, tiles, [&](int t, int64_t lo, int64_t hi) {
    float* v = buffers + t * per_worker;
    float* m = v + sp.step * kPoints * c;
    float* zeros = m + sp.step * kPoints * f;
    std::fill(zeros, zeros + std::max(c, f), 0.f);
    for (int64_t t0 = lo; t0 < hi; t0 += sp.step) {
      const int64_t rows = std::min(sp.step, hi - t0);
      for (int64_t r = 0; r < rows; ++r) gather_input(g, x, zeros, t0 + r, r, rows, v);
      for (int xi = 0; xi < kPoints; ++xi)
        small_gemm(rows, f, c, v + xi * rows * c, c, 1, u + xi * c * f, f, m + xi * rows * f, f, false);
      for (int64_t r = 0; r < rows; ++r) {
        int64_t img, oy, ox;
        g.locate(t0 + r, img, oy, ox);
        float* dst[16];
        for (int i = 0; i < 4; ++i)
          for (int j = 0; j < 4; ++j)
            dst[i * 4 + j] = oy + i < oh && ox + j < ow ? y + ((img * oh + oy + i) * ow + ox + j) * f : nullptr;
        const int64_t plane = rows * f;
        const float* mr = m + r * f;
        int64_t q = 0;
        for (; q + kLanes <= f; q += kLanes) {
          float* d[16];
          for (int k = 0; k < 16; ++k) d[k] = dst[k] ? dst[k] + q : nullptr;
          output_transform(mr + q, plane, d, bias ? bias + q : nullptr, kLanes);
        }
        if (q < f) {
          float* d[16];
          for (int k = 0; k < 16; ++k) d[k] = dst[k] ? dst[k] + q : nullptr;
          output_transform(mr + q, plane, d, bias ? bias + q : nullptr, int(f - q));
        }
      }
    }
  });
}

void winograd4_kernel_grad(const float* x, int64_t n, int64_t h, int64_t w, int64_t c, const float* dy, int64_t f,
                           int64_t pad_top, int64_t pad_left, int64_t oh, int64_t ow, float* dkernel) {
  const Grid g = make_grid(n, h, w, c, f, pad_top, pad_left, oh, ow);
  const int64_t tiles = g.tiles(), CF = c * f;
  if (tiles == 0) {
    std::fill(dkernel, dkernel + 9 * CF, 0.f);
    return;
  }
  const Split sp = split_tiles(tiles, c, f);
  const int64_t per_worker = per_worker_floats(sp, c, f);
  float* acc = scratch(sp.threads * (kPoints * CF + per_worker));
  float* buffers = acc + sp.threads * kPoints * CF;
  std::fill(acc, buffers, 0.f);  // every worker's accumulator, in case OpenMP runs fewer of them
  conv_detail::run_split(sp.threads, tiles, [&](int t, int64_t lo, int64_t hi) {
    float* v = buffers + t * per_worker;
    float* e = v + sp.step * kPoints * c;
    float* zeros = e + sp.step * kPoints * f;
    float* dw = acc + t * kPoints * CF;
    std::fill(zeros, zeros + std::max(c, f), 0.f);
    for (int64_t t0 = lo; t0 < hi; t0 += sp.step) {
      const int64_t rows = std::min(sp.step, hi - t0);
      for (int64_t r = 0; r < rows; ++r) {
        gather_input(g, x, zeros, t0 + r, r, rows, v);
        int64_t img, oy, ox;
        g.locate(t0 + r, img, oy, ox);
        const float* src[16];
        for (int i = 0; i < 4; ++i)
          for (int j = 0; j < 4; ++j)
            src[i * 4 + j] = oy + i < oh && ox + j < ow ? dy + ((img * oh + oy + i) * ow + ox + j) * f : zeros;
        const int64_t plane = rows * f;
        for (int64_t q = 0; q < f; q += kLanes) {
          const float* s[16];
          for (int k = 0; k < 16; ++k) s[k] = src[k] + q;
          if (q + kLanes <= f) grad_transform(s, e + r * f + q, plane, kLanes);
          else grad_transform(s, e + r * f + q, plane, int(f - q));
        }
      }
      for (int xi = 0; xi < kPoints; ++xi)  // dU[xi] (C x F) += V[xi]^T @ E[xi]
        small_gemm(c, f, rows, v + xi * rows * c, 1, c, e + xi * rows * f, f, dw + xi * CF, f, true);
    }
  });
  // reduce the workers' accumulators in order, then dkernel[tap] = sum_xi G[i][a] G[j][b] dU[xi]
  for (int t = 1; t < sp.threads; ++t) {
    const float* src = acc + t * kPoints * CF;
    for (int64_t q = 0; q < kPoints * CF; ++q) acc[q] += src[q];
  }
  std::fill(dkernel, dkernel + 9 * CF, 0.f);
  for (int tap = 0; tap < 9; ++tap)
    for (int xi = 0; xi < kPoints; ++xi) {
      const float coef = float(kG[xi / 6][tap / 3] * kG[xi % 6][tap % 3]);
      if (coef == 0.f) continue;
      const float* src = acc + xi * CF;
      float* dst = dkernel + tap * CF;
      for (int64_t q = 0; q < CF; ++q) dst[q] += coef * src[q];
    }
}

}  // namespace kcore
