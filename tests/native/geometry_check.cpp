// Checks the index helpers of ops/conv_geometry.h and ops/pool_geometry.h that the CUDA kernels
// use but the CPU kernels do not (the inverse maps: which output reads an input cell) against
// brute force over many random geometries. Built and run by tests/test_geometry_native.py.
#include <cstdio>
#include <random>

#include "ops/conv_geometry.h"
#include "ops/pool_geometry.h"

using kcore::ConvGeometry;
using kcore::PoolGeometry;

static int failures = 0;
#define CHECK(cond, ...)                    \
  do {                                      \
    if (!(cond)) {                          \
      if (failures++ < 10) {                \
        std::printf("FAIL: " __VA_ARGS__);  \
        std::printf("\n");                  \
      }                                     \
    }                                       \
  } while (0)

int main() {
  std::mt19937 rng(1234);
  auto pick = [&](int lo, int hi) { return (int64_t)std::uniform_int_distribution<int>(lo, hi)(rng); };
  long checks = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    ConvGeometry g;
    for (int j = 0; j < 3; ++j) {
      g.in[j] = pick(1, 9);
      g.k[j] = pick(1, 4);
      g.s[j] = pick(1, 4);
      g.d[j] = pick(1, 3);
      g.pb[j] = pick(0, 3);
      g.pa[j] = pick(0, 3);
      const int64_t span = (g.k[j] - 1) * g.d[j] + 1, padded = g.in[j] + g.pb[j] + g.pa[j];
      g.out[j] = padded >= span ? (padded - span) / g.s[j] + 1 : 0;
    }
    for (int j = 0; j < 3; ++j)
      for (int64_t i = 0; i < g.in[j]; ++i)
        for (int64_t a = 0; a < g.k[j]; ++a) {
          int64_t want = -1;
          for (int64_t o = 0; o < g.out[j]; ++o)
            if (g.input_coord(j, o, a) == i) want = o;
          ++checks;
          CHECK(g.output_coord(j, i, a) == want, "conv axis %d i=%ld tap=%ld: got %ld want %ld", j, (long)i, (long)a,
                (long)g.output_coord(j, i, a), (long)want);
        }
    g.n = 2;
    for (int64_t r = 0; r < g.rows(); ++r) {  // decode is the inverse of the row-major flattening
      const kcore::ConvPixel p = g.decode(r);
      ++checks;
      CHECK(((p.n * g.out[0] + p.o0) * g.out[1] + p.o1) * g.out[2] + p.o2 == r, "conv decode %ld", (long)r);
    }
  }
  for (int trial = 0; trial < 2000; ++trial) {
    PoolGeometry g;
    for (int j = 0; j < 3; ++j) {
      g.k[j] = pick(1, 4);
      g.in[j] = pick(g.k[j], 9);
      g.s[j] = pick(1, 4);
      g.pb[j] = pick(0, g.k[j] - 1);
      const int64_t pa = pick(0, g.k[j] - 1);
      g.out[j] = (g.in[j] + g.pb[j] + pa - g.k[j]) / g.s[j] + 1;
    }
    for (int64_t o = 0; o < g.out_pixels(); ++o) {  // window(o) along each axis vs. outputs_reading
      const kcore::PoolWindow w = g.window(o);
      const int64_t idx[3] = {o / (g.out[1] * g.out[2]), (o / g.out[2]) % g.out[1], o % g.out[2]};
      for (int j = 0; j < 3; ++j)
        for (int64_t i = 0; i < g.in[j]; ++i) {
          int64_t lo, hi;
          g.outputs_reading(j, i, &lo, &hi);
          const bool inside = i >= w.lo[j] && i < w.hi[j];
          ++checks;
          CHECK(inside == (idx[j] >= lo && idx[j] < hi), "pool axis %d i=%ld o=%ld: window [%ld, %ld) reading [%ld, %ld)",
                j, (long)i, (long)idx[j], (long)w.lo[j], (long)w.hi[j], (long)lo, (long)hi);
        }
      CHECK(w.count() >= 1, "pool window %ld is empty", (long)o);
    }
  }
  std::printf("%s %ld checks\n", failures ? "FAILED" : "ok", checks);
  return failures ? 1 : 0;
}
