// Which Winograd variant a float32 3x3 stride-1 conv takes, and its user-facing names.
//
// The automatic rule, measured with tools/bench_winograd.py (1 thread, CPU time, AVX-512 build;
// forward + input gradient + kernel gradient, ms, F(4x4) / F(2x2) / im2col):
//   b32 28x28 32->64: 7.7 / 23.2 / 27.9    b8 56x56 64->64: 12.5 / 39.5 / 53.4
//   b32 14x14 64->64: 4.9 / 9.9 / 13.0     b32 7x7 128->128: 3.8 / 10.5 / 12.5
//   b32 5x5 64->64:   1.06 / 1.52 / 1.65   b64 3x3 64->64: 0.60 / 1.27 / 1.17
//   b64 2x2 64->64:   0.55 / 0.44 / 0.50   b32 28x28 16->16: 2.8 / 5.6 / 5.2
// F(4x4, 3x3) wins from 3x3 outputs up (its 4x4 tiles then hold >= 9 useful outputs of 16); F(2x2, 3x3)
// (forward and input gradient; im2col for the kernel gradient) below. Builds without AVX-512 have no
// fast small_gemm and keep F(2x2). Channels below 16 never take Winograd (winograd_applicable).
#include "cpu/conv_winograd4.h"

#include "core/errors.h"
#include "cpu/small_gemm.h"

namespace kcore {

WinogradVariant parse_winograd_variant(const std::string& name) {
  if (name == "auto") return WinogradVariant::automatic;
  if (name == "f2") return WinogradVariant::f2;
  if (name == "f4") return WinogradVariant::f4;
  KCORE_CHECK(false, "conv_set_winograd_variant: variant must be 'auto', 'f2' or 'f4', got '" << name << "'");
  return WinogradVariant::automatic;
}

std::string winograd_variant_name(WinogradVariant v) {
  return v == WinogradVariant::f2 ? "f2" : v == WinogradVariant::f4 ? "f4" : "auto";
}

int choose_winograd(WinogradVariant v, int64_t n, int64_t oh, int64_t ow, int64_t c, int64_t f) {
  if (v != WinogradVariant::automatic) return v == WinogradVariant::f2 ? 2 : 4;
  (void)n;
  (void)c;
  (void)f;
  if (!small_gemm_fast()) return 2;  // builds without AVX-512: F(2x2) on the BLAS
  return oh >= 3 && ow >= 3 ? 4 : 2;
}

}  // namespace kcore
