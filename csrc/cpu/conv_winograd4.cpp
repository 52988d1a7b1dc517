// Winograd F(4x4, 3x3) (Lavin & Gray 2016) for float32 and bfloat16 3x3 stride-1 undilated 2-D convs,
// channels_last.
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
// i.e. per point xi, dU[xi] (C x F) += V[xi]^T @ Ydy[xi], accumulated per worker (float within runs
// of kFlushChunks chunks, then double) and reduced in double.
// Interpolation points 0, +-1, +-2 (and infinity). float32 error, max |error| / max |float64 result|
// with unit-normal inputs and He-scaled weights: y 6.6e-6, dx 6.8e-6, dkernel 6.3e-6 for b32 28x28
// 32->64; 7.5e-6 / 7.8e-6 / 6.4e-6 for b8 56x56 64->64; 1.4e-5 / 1.4e-5 / 4.6e-6 for b8 14x14
// 256->256 (im2col: 2e-7 to 8e-7; F(2x2): 3e-7 to 7e-7). Bounded in tests/test_conv_fast_paths.py.
//
// bfloat16 (mixed_bfloat16): the same code on bfloat16 x / dy / y / dx. The loads widen bfloat16 in
// registers (a shift), the output transform rounds to bfloat16 as it stores, and everything between,
// the 36 GEMMs included, is float32: the result is float32 Winograd on the widened operands, rounded
// once (the same bits; tests/test_bf16_winograd.py). Max |error| / max |float64 result of the same
// bfloat16 inputs| (tools/bf16_winograd_error.py): y / dx / dkernel 2.1e-3 / 3.3e-3 / 2.6e-3 (b32 28x28
// 32->64), 2.1e-3 / 2.2e-3 / 2.5e-3 (b8 56x56 64->64), 2.4e-3 / 2.4e-3 / 2.7e-3 (b8 14x14 256->256):
// the final rounding. The GEMMs stay float32 because bfloat16 ones (V and U rounded, vdpbf16ps) would
// cost F(4x4) 4e-2 to 7e-2 of error (simulated in that tool), beyond the 1e-2 to 2e-2 the bfloat16
// tests accept; F(2x2) in bfloat16 (4e-3) does 16 / 4 = 4 multiplies per output at twice the rate
// against 36 / 16 = 2.25 here, about even, with 1.8x the transform work and buffers.
#include "cpu/conv_winograd4.h"

#include <algorithm>
#include <cstring>
#include <vector>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "core/parallel.h"
#include "cpu/conv_workers.h"
#include "cpu/small_gemm.h"

namespace kcore {

namespace {

constexpr int kPoints = 36;
constexpr int kLanes = 16;                               // channels transformed at once (one AVX-512 vector)
constexpr int64_t kChunkBytes = int64_t(384) << 10;      // V + M of one chunk: about half an L2 cache
constexpr int64_t kKernelCacheBytes = int64_t(1) << 20;  // U or dU above this streams from L3
constexpr int64_t kMinRowsStreaming = 48;                // chunk tiles when U or dU does not stay in cache
// Kernel gradient: each chunk reads and writes all 36 C x F accumulators, so it takes at least this
// many tiles, past half the L2 for V + dY (b8 56x56 64->64, 1 thread: 3.1 ms at 36 tiles, 3.7 at 12).
constexpr int64_t kMinRowsKernelGrad = 36;
constexpr int64_t kFlushChunks = 8;  // kernel gradient: chunks summed in float before double (5x less error)
constexpr int64_t kMinMacsPerWorker = int64_t(1) << 21;


// ---- the transforms, applied to `nl` (<= kLanes) channels at a time, as GCC/Clang vectors ----

// 16 floats even where the build has narrower registers (the compiler splits them); every function
// passing one by value is internal and inlined, so the ABI note GCC gives for that does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"
typedef float Vec __attribute__((vector_size(kLanes * sizeof(float))));

__attribute__((always_inline)) inline Vec load(const float* p, int nl) {
  Vec v = {};
  std::memcpy(&v, p, (nl == kLanes ? kLanes : nl) * sizeof(float));
  return v;
}

__attribute__((always_inline)) inline void store(float* p, Vec v, int nl) {
  std::memcpy(p, &v, (nl == kLanes ? kLanes : nl) * sizeof(float));
}

// bfloat16 operands are widened in registers as they load (exact: a shift) and results rounded as they
// store, to nearest even with NaN kept quiet: the same bits as float_to_bf16 (core/bfloat16.h).
typedef uint16_t Half16 __attribute__((vector_size(kLanes * sizeof(uint16_t))));
typedef uint32_t Bits16 __attribute__((vector_size(kLanes * sizeof(uint32_t))));

// 16 uint16 to 16 uint32: one vpmovzxwd on AVX-512 builds (GCC splits the generic conversion in two
// halves when tuned for 256-bit vectors).
__attribute__((always_inline)) inline Bits16 widen(Half16 h) {
#if defined(__AVX512F__)
  return (Bits16)_mm512_maskz_cvtepu16_epi32(__mmask16(0xffff), (__m256i)h);
#else
  return __builtin_convertvector(h, Bits16);
#endif
}

__attribute__((always_inline)) inline Half16 narrow(Bits16 u) {
#if defined(__AVX512F__)
  return (Half16)_mm512_maskz_cvtepi32_epi16(__mmask16(0xffff), (__m512i)u);
#else
  return __builtin_convertvector(u, Half16);
#endif
}

__attribute__((always_inline)) inline Vec load(const bf16* p, int nl) {
  Half16 h = {};
  std::memcpy(&h, p, (nl == kLanes ? kLanes : nl) * sizeof(uint16_t));
  return (Vec)(widen(h) << 16);
}

__attribute__((always_inline)) inline void store(bf16* p, Vec v, int nl) {
  const Bits16 u = (Bits16)v;
  const Bits16 rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
  const Bits16 nan = (Bits16)((u & 0x7fffffffu) > 0x7f800000u);
  const Half16 h = narrow((nan & ((u >> 16) | 0x40u)) | (~nan & rounded));
  std::memcpy(static_cast<void*>(p), &h, (nl == kLanes ? kLanes : nl) * sizeof(uint16_t));
}

// B^T applied to 6 values (one column or row of a 6x6 patch).
__attribute__((always_inline)) inline void bt6(const Vec* d, Vec* o) {
  o[0] = 4.f * d[0] - 5.f * d[2] + d[4];
  o[1] = d[3] + d[4] - 4.f * (d[1] + d[2]);
  o[2] = 4.f * (d[1] - d[2]) + d[4] - d[3];
  o[3] = 2.f * (d[3] - d[1]) + d[4] - d[2];
  o[4] = 2.f * (d[1] - d[3]) + d[4] - d[2];
  o[5] = 4.f * d[1] - 5.f * d[3] + d[5];
}

// A^T applied to 6 values: 4 outputs.
__attribute__((always_inline)) inline void at6(const Vec* m, Vec* o) {
  const Vec p12 = m[1] + m[2], m12 = m[1] - m[2], p34 = m[3] + m[4], m34 = m[3] - m[4];
  o[0] = m[0] + p12 + p34;
  o[1] = m12 + 2.f * m34;
  o[2] = p12 + 4.f * p34;
  o[3] = m12 + 8.f * m34 + m[5];
}

// A applied to 4 values: 6 outputs.
__attribute__((always_inline)) inline void a4(const Vec* e, Vec* o) {
  const Vec p02 = e[0] + e[2], p13 = e[1] + e[3], q02 = e[0] + 4.f * e[2], q13 = 2.f * e[1] + 8.f * e[3];
  o[0] = e[0];
  o[1] = p02 + p13;
  o[2] = p02 - p13;
  o[3] = q02 + q13;
  o[4] = q02 - q13;
  o[5] = e[3];
}

// T d T^T of an In x In block d (cell (r, c) at src[r * In + c] + q) for a 1-D transform T from In
// values to 6 (B^T for input patches, A for output-gradient blocks): point xi goes to out[xi * plane].
template <int In, void (*Transform)(const Vec*, Vec*), typename T>
__attribute__((always_inline)) inline void to_points(const T* const* src, int64_t q, float* out, int64_t plane,
                                                     int nl) {
  Vec t[6][In];  // t[i][c] = (T d)[i][c]
  for (int c = 0; c < In; ++c) {
    Vec d[In], o[6];
    for (int r = 0; r < In; ++r) d[r] = load(src[r * In + c] + q, nl);
    Transform(d, o);
    for (int i = 0; i < 6; ++i) t[i][c] = o[i];
  }
  for (int i = 0; i < 6; ++i) {
    Vec o[6];
    Transform(t[i], o);
    for (int j = 0; j < 6; ++j) store(out + (i * 6 + j) * plane, o[j], nl);
  }
}

// (B^T d B) of a 6x6 input patch.
template <typename T>
__attribute__((always_inline)) inline void input_transform(const T* const* src, int64_t q, float* out, int64_t plane,
                                                           int nl) {
  to_points<6, bt6>(src, q, out, plane, nl);
}

// A^T m A of the 36 points m[xi * plane] into the 4x4 outputs dst[r * 4 + c] + q (null: outside the output).
template <typename T>
__attribute__((always_inline)) inline void output_transform(const float* m, int64_t plane, T* const* dst, int64_t q,
                                                            const float* bias, int nl) {
  Vec s[4][6];  // s[r][j] = (A^T m)[r][j]
  for (int j = 0; j < 6; ++j) {
    Vec d[6], o[4];
    for (int k = 0; k < 6; ++k) d[k] = load(m + (k * 6 + j) * plane, nl);
    at6(d, o);
    for (int r = 0; r < 4; ++r) s[r][j] = o[r];
  }
  const Vec b = bias ? load(bias, nl) : Vec{};
  for (int r = 0; r < 4; ++r) {
    Vec o[4];
    at6(s[r], o);
    for (int c = 0; c < 4; ++c)
      if (T* d = dst[r * 4 + c]) store(d + q, o[c] + b, nl);
  }
}

// A e A^T of a 4x4 output-gradient block (zeros outside the output).
template <typename T>
__attribute__((always_inline)) inline void grad_transform(const T* const* src, int64_t q, float* out, int64_t plane,
                                                          int nl) {
  to_points<4, a4>(src, q, out, plane, nl);
}

constexpr double kG[6][3] = {{1.0 / 4, 0, 0},
                             {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                             {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                             {1.0 / 24, 1.0 / 12, 1.0 / 6},
                             {1.0 / 24, -1.0 / 12, 1.0 / 6},
                             {0, 0, 1}};

// Lanes (kernel entries q = c * F + f) the kernel transforms take at once, in double.
constexpr int kBlock = 16;

// out (R x R) = L in L^T, per lane, for the R x S matrix L(i, k) = coef(i, k): one pass per side
// over a block of lanes instead of one pass over the whole kernel per nonzero coefficient.
template <int R, int S, typename Coef>
inline void two_sided(Coef coef, const double (&in)[S][S][kBlock], double (&out)[R][R][kBlock]) {
  double half[R][S][kBlock] = {};  // L in
  for (int i = 0; i < R; ++i)
    for (int k = 0; k < S; ++k)
      for (int j = 0; j < S; ++j)
        for (int l = 0; l < kBlock; ++l) half[i][j][l] += coef(i, k) * in[k][j][l];
  for (int i = 0; i < R; ++i)
    for (int j = 0; j < R; ++j) {
      for (int l = 0; l < kBlock; ++l) out[i][j][l] = 0.0;
      for (int k = 0; k < S; ++k)
        for (int l = 0; l < kBlock; ++l) out[i][j][l] += half[i][k][l] * coef(j, k);
    }
}

// U[xi][c][f] = (G g G^T)[xi] for the Keras kernel g (3, 3, C, F), blocks of entries over `threads`.
void transform_kernel(const float* g, int64_t C, int64_t F, float* u, int threads) {
  const int64_t CF = C * F;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t q0 = 0; q0 < CF; q0 += kBlock) {
    const int nb = int(std::min<int64_t>(kBlock, CF - q0));
    double in[3][3][kBlock] = {}, out[6][6][kBlock];
    for (int tap = 0; tap < 9; ++tap)
      for (int l = 0; l < nb; ++l) in[tap / 3][tap % 3][l] = g[tap * CF + q0 + l];
    two_sided<6, 3>([](int i, int k) { return kG[i][k]; }, in, out);
    for (int xi = 0; xi < kPoints; ++xi)
      for (int l = 0; l < nb; ++l) u[xi * CF + q0 + l] = float(out[xi / 6][xi % 6][l]);
  }
}

// dkernel[a][b] = (G^T dU G)[a][b], dU the sum of the accumulators (36 planes of CF doubles each) of
// the parts that ran, in double: the 36 points cancel each other down to values far smaller than the
// points themselves. Blocks of entries over as many threads as parts.
void inverse_kernel_transform(const double* du, const std::vector<char>& ran, int64_t CF, float* dkernel) {
  const int parts = int(ran.size());
#pragma omp parallel for num_threads(parts) schedule(static)
  for (int64_t q0 = 0; q0 < CF; q0 += kBlock) {
    const int nb = int(std::min<int64_t>(kBlock, CF - q0));
    double in[6][6][kBlock] = {}, out[3][3][kBlock];
    for (int t = 0; t < parts; ++t)  // the workers' accumulators in order
      for (int xi = 0; ran[t] && xi < kPoints; ++xi)
        for (int l = 0; l < nb; ++l) in[xi / 6][xi % 6][l] += du[(t * kPoints + xi) * CF + q0 + l];
    two_sided<3, 6>([](int i, int k) { return kG[k][i]; }, in, out);
    for (int tap = 0; tap < 9; ++tap)
      for (int l = 0; l < nb; ++l) dkernel[tap * CF + q0 + l] = float(out[tap / 3][tap % 3][l]);
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

// Transforms the patch of tile t (channels of x) into row `row` of V (36 planes of rows x C, `plane` apart).
template <typename T>
void gather_input(const Grid& g, const T* x, const T* zeros, int64_t t, int64_t row, int64_t plane, float* v) {
  int64_t img, y0, x0;
  g.locate(t, img, y0, x0);
  y0 -= g.pad_top;
  x0 -= g.pad_left;
  const int64_t C = g.c;
  const T* src[kPoints];
  for (int i = 0; i < 6; ++i)
    for (int j = 0; j < 6; ++j) {
      const int64_t yy = y0 + i, xx = x0 + j;
      const bool inside = yy >= 0 && yy < g.h && xx >= 0 && xx < g.w;
      src[i * 6 + j] = inside ? x + ((img * g.h + yy) * g.w + xx) * C : zeros;
    }
  float* out = v + row * C;
  int64_t q = 0;
  for (; q + kLanes <= C; q += kLanes) input_transform(src, q, out + q, plane, kLanes);
  if (q < C) input_transform(src, q, out + q, plane, int(C - q));
}

// Chunks of tiles per worker, and the worker split.
struct Split {
  int threads;
  int64_t step;
};

// A chunk's V + M (or V + dY) should stay in L2 while the 36 GEMMs run, but each chunk also streams
// the transformed kernel U (forward) or updates the accumulators dU (kernel gradient), 36 C x F
// matrices: when those outgrow their share of L2, larger chunks amortise that traffic over more tiles.
Split split_tiles(int64_t tiles, int64_t c, int64_t f, bool kernel_grad = false) {
  Split sp;
  const double macs = double(tiles) * kPoints * double(c) * double(f);
  sp.threads = omp_in_parallel()
                   ? 1
                   : (int)std::max<int64_t>(
                         1, std::min<int64_t>({(int64_t)num_threads(), (int64_t)(macs / kMinMacsPerWorker), tiles}));
  const int64_t per_tile = kPoints * (c + f) * int64_t(sizeof(float));
  int64_t step = std::max<int64_t>(6, kChunkBytes / per_tile / 12 * 12);
  const bool big_kernel = kPoints * c * f * int64_t(sizeof(float)) > kKernelCacheBytes;
  if (big_kernel) step = std::max<int64_t>(step, kMinRowsStreaming);
  if (kernel_grad) step = std::max<int64_t>(step, kMinRowsKernelGrad);
  sp.step = std::max<int64_t>(1, std::min(step, (tiles + sp.threads - 1) / sp.threads));
  return sp;
}

// Floats between the 36 planes of a chunk's rows x width matrices: one cache line more than the matrix,
// so that the transforms' 36 loads or stores per vector do not all map to one L1 set (plane sizes of
// a multiple of 4 KiB made the kernel gradient of b32 28x28 32->64 1.9x slower at 16 tiles per chunk).
int64_t plane_floats(int64_t rows, int64_t width) { return rows * width + kLanes; }

// Per-worker floats: V and M (or dY) of a chunk, and a zero row of max(C, F) channels.
int64_t per_worker_floats(const Split& sp, int64_t c, int64_t f) {
  return kPoints * (plane_floats(sp.step, c) + plane_floats(sp.step, f)) + std::max(c, f);
}

// A buffer kept by the calling thread across calls (a fresh multi-MiB one would page-fault every call).
template <typename T = float> T* scratch(int64_t count) {
  thread_local std::vector<T> buffer;
  if ((int64_t)buffer.size() < count) {
    buffer.clear();
    buffer.shrink_to_fit();
    buffer.resize(count);
  }
  return buffer.data();
}

}  // namespace

int64_t winograd4_tiles(int64_t n, int64_t oh, int64_t ow) { return n * ((oh + 3) / 4) * ((ow + 3) / 4); }

int64_t winograd4_workspace_bytes(int64_t n, int64_t oh, int64_t ow, int64_t c, int64_t f, bool kernel_grad) {
  const int64_t tiles = winograd4_tiles(n, oh, ow);
  if (tiles == 0) return 0;
  const Split sp = split_tiles(tiles, c, f, kernel_grad);
  const int64_t accumulators = kernel_grad ? sp.threads * kPoints * c * f : kPoints * c * f;
  return (sp.threads * per_worker_floats(sp, c, f) + accumulators) * int64_t(sizeof(float));
}

namespace {

// x and y float32 or bfloat16 (T): the transforms widen and round in registers, the GEMMs run in float32.
template <typename T>
void conv3x3(const T* x, int64_t n, int64_t h, int64_t w, int64_t c, const float* kernel, int64_t f, int64_t pad_top,
             int64_t pad_left, int64_t oh, int64_t ow, const float* bias, T* y) {
  const Grid g = make_grid(n, h, w, c, f, pad_top, pad_left, oh, ow);
  const int64_t tiles = g.tiles();
  if (tiles == 0) return;
  const Split sp = split_tiles(tiles, c, f);
  const int64_t per_worker = per_worker_floats(sp, c, f);
  float* u = scratch(kPoints * c * f + sp.threads * per_worker);
  float* buffers = u + kPoints * c * f;
  transform_kernel(kernel, c, f, u, sp.threads);
  conv_detail::run_split(sp.threads, tiles, [&](int t, int64_t lo, int64_t hi) {
    float* v = buffers + t * per_worker;
    float* m = v + kPoints * plane_floats(sp.step, c);
    float* zeros = m + kPoints * plane_floats(sp.step, f);
    std::fill(zeros, zeros + std::max(c, f), 0.f);
    for (int64_t t0 = lo; t0 < hi; t0 += sp.step) {
      const int64_t rows = std::min(sp.step, hi - t0), vplane = plane_floats(rows, c), plane = plane_floats(rows, f);
      for (int64_t r = 0; r < rows; ++r) gather_input(g, x, reinterpret_cast<const T*>(zeros), t0 + r, r, vplane, v);
      for (int xi = 0; xi < kPoints; ++xi)
        small_gemm(rows, f, c, v + xi * vplane, c, 1, u + xi * c * f, f, m + xi * plane, f, false);
      for (int64_t r = 0; r < rows; ++r) {
        int64_t img, oy, ox;
        g.locate(t0 + r, img, oy, ox);
        T* dst[16];
        for (int i = 0; i < 4; ++i)
          for (int j = 0; j < 4; ++j)
            dst[i * 4 + j] = oy + i < oh && ox + j < ow ? y + ((img * oh + oy + i) * ow + ox + j) * f : nullptr;
        const float* mr = m + r * f;
        int64_t q = 0;
        for (; q + kLanes <= f; q += kLanes) output_transform(mr + q, plane, dst, q, bias ? bias + q : nullptr, kLanes);
        if (q < f) output_transform(mr + q, plane, dst, q, bias ? bias + q : nullptr, int(f - q));
      }
    }
  });
}

template <typename T>
void kernel_grad(const T* x, int64_t n, int64_t h, int64_t w, int64_t c, const T* dy, int64_t f, int64_t pad_top,
                 int64_t pad_left, int64_t oh, int64_t ow, float* dkernel) {
  const Grid g = make_grid(n, h, w, c, f, pad_top, pad_left, oh, ow);
  const int64_t tiles = g.tiles(), CF = c * f;
  if (tiles == 0) {
    std::fill(dkernel, dkernel + 9 * CF, 0.f);
    return;
  }
  const Split sp = split_tiles(tiles, c, f, true);
  const int64_t per_worker = per_worker_floats(sp, c, f);
  float* acc = scratch(sp.threads * (kPoints * CF + per_worker));
  float* buffers = acc + sp.threads * kPoints * CF;
  double* totals = scratch<double>(sp.threads * kPoints * CF);
  std::vector<char> ran(sp.threads, 0);  // the workers that ran (OpenMP may run fewer) wrote their totals
  conv_detail::run_split(sp.threads, tiles, [&](int t, int64_t lo, int64_t hi) {
    ran[t] = 1;
    float* v = buffers + t * per_worker;
    float* e = v + kPoints * plane_floats(sp.step, c);
    float* zeros = e + kPoints * plane_floats(sp.step, f);
    float* dw = acc + t * kPoints * CF;
    std::fill(zeros, zeros + std::max(c, f), 0.f);
    int64_t chunks = 0;
    bool fresh = true, first_flush = true;  // dw and this worker's totals hold nothing yet: overwrite them
    for (int64_t t0 = lo; t0 < hi; t0 += sp.step) {
      const int64_t rows = std::min(sp.step, hi - t0), vplane = plane_floats(rows, c), plane = plane_floats(rows, f);
      for (int64_t r = 0; r < rows; ++r) {
        const T* none = reinterpret_cast<const T*>(zeros);  // all-zero bits: 0 in either type
        gather_input(g, x, none, t0 + r, r, vplane, v);
        int64_t img, oy, ox;
        g.locate(t0 + r, img, oy, ox);
        const T* src[16];
        for (int i = 0; i < 4; ++i)
          for (int j = 0; j < 4; ++j)
            src[i * 4 + j] = oy + i < oh && ox + j < ow ? dy + ((img * oh + oy + i) * ow + ox + j) * f : none;
        int64_t q = 0;
        for (; q + kLanes <= f; q += kLanes) grad_transform(src, q, e + r * f + q, plane, kLanes);
        if (q < f) grad_transform(src, q, e + r * f + q, plane, int(f - q));
      }
      for (int xi = 0; xi < kPoints; ++xi)  // dU[xi] (C x F) += V[xi]^T @ E[xi]
        small_gemm(c, f, rows, v + xi * vplane, 1, c, e + xi * plane, f, dw + xi * CF, f, !fresh);
      fresh = false;
      if (++chunks % kFlushChunks == 0 || t0 + rows >= hi) {  // float sums of a few chunks into double
        double* d = totals + t * kPoints * CF;
        if (first_flush)
          for (int64_t q = 0; q < kPoints * CF; ++q) d[q] = dw[q];
        else
          for (int64_t q = 0; q < kPoints * CF; ++q) d[q] += dw[q];
        first_flush = false;
        fresh = true;
      }
    }
  });
  inverse_kernel_transform(totals, ran, CF, dkernel);
}

}  // namespace

void winograd4_conv3x3(const float* x, int64_t n, int64_t h, int64_t w, int64_t c, const float* kernel, int64_t f,
                       int64_t pad_top, int64_t pad_left, int64_t oh, int64_t ow, const float* bias, float* y) {
  conv3x3(x, n, h, w, c, kernel, f, pad_top, pad_left, oh, ow, bias, y);
}

void winograd4_conv3x3(const bf16* x, int64_t n, int64_t h, int64_t w, int64_t c, const float* kernel, int64_t f,
                       int64_t pad_top, int64_t pad_left, int64_t oh, int64_t ow, const float* bias, bf16* y) {
  conv3x3(x, n, h, w, c, kernel, f, pad_top, pad_left, oh, ow, bias, y);
}

void winograd4_kernel_grad(const float* x, int64_t n, int64_t h, int64_t w, int64_t c, const float* dy, int64_t f,
                           int64_t pad_top, int64_t pad_left, int64_t oh, int64_t ow, float* dkernel) {
  kernel_grad(x, n, h, w, c, dy, f, pad_top, pad_left, oh, ow, dkernel);
}

void winograd4_kernel_grad(const bf16* x, int64_t n, int64_t h, int64_t w, int64_t c, const bf16* dy, int64_t f,
                           int64_t pad_top, int64_t pad_left, int64_t oh, int64_t ow, float* dkernel) {
  kernel_grad(x, n, h, w, c, dy, f, pad_top, pad_left, oh, ow, dkernel);
}

}  // namespace kcore
