// Which Winograd variant a float32 3x3 stride-1 conv takes, and its user-facing names.
//
// The automatic rule (measured with tools/bench_winograd.py, 2 threads, AVX-512):
// F(4x4, 3x3) wins whenever its 4x4 output tiles are not mostly padding; F(2x2, 3x3) is kept for
// tiny outputs where a 4x4 tile would compute mostly discarded values.
#include "cpu/conv_winograd4.h"

#include "core/errors.h"

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
  return oh >= 4 && ow >= 4 ? 4 : 2;
}

}  // namespace kcore
