// The float32 conv paths that skip im2col, and which conv takes which (see conv_fast.h).
#include "cpu/conv_fast.h"

#include <vector>

#include "cpu/conv_rows.h"
#include "cpu/conv_winograd.h"
#include "cpu/conv_winograd1d.h"
#include "cpu/conv_winograd4.h"
#include "cpu/small_gemm.h"
#include "ops/conv.h"

namespace kcore {

namespace {

bool g_winograd = true;
WinogradVariant g_winograd_variant = WinogradVariant::automatic;
bool g_rows = true;

using conv_detail::Geometry;

// 2-D, 3x3, stride 1, no dilation, float32, enough channels: Winograd F(2x2, 3x3).
bool use_winograd(const Geometry& g) {
  return g_winograd && g.rank == 2 && g.k[1] == 3 && g.k[2] == 3 && g.s[1] == 1 && g.s[2] == 1 && g.d[1] == 1 &&
         g.d[2] == 1 && g.pb[1] <= 2 && g.pb[2] <= 2 && g.pa[1] <= 2 && g.pa[2] <= 2 && g.groups == 1 &&
         winograd_applicable(g.c, g.f) && g.rows() > 0;
}

// Which Winograd variant a Winograd-eligible float32 conv takes (conv_winograd_select.cpp).
int winograd_variant(const Geometry& g) {
  if (!use_winograd(g)) return 0;
  return choose_winograd(g_winograd_variant, g.n, g.out[1], g.out[2], g.c, g.f);
}

RowsConv rows_geometry(const Geometry& g) {
  return RowsConv{g.n, g.in[1], g.in[2], g.c, g.k[1], g.k[2], g.f, g.pb[1], g.pb[2], g.out[1], g.out[2]};
}

// float32 1-D/2-D conv with unit strides and dilations, one group, not taken by Winograd: GEMMs on a
// window sliding along the input rows (conv_rows.cpp), on builds with the AVX-512 small_gemm. Its
// GEMMs' columns are the filters (forward, kernel gradient) or the input channels (input gradient):
// below kRowsMinColumns most of each vector would be masked off, and im2col + BLAS does better
// (measured: C = 1 -> F = 32 input gradient 1.35 ms against 0.81, tools/bench_winograd.py).
constexpr int64_t kRowsMinColumns = 8;

bool use_rows(const Geometry& g) {
  return g_rows && small_gemm_fast() && g.rank <= 2 && g.f >= kRowsMinColumns && g.s[1] == 1 && g.s[2] == 1 &&
         g.d[1] == 1 && g.d[2] == 1 && g.groups == 1 && g.rows() > 0 && winograd_variant(g) == 0 &&
         rows_conv_applicable(rows_geometry(g), g.pa[1], g.pa[2]);
}

// grad_x of a Winograd-eligible conv is itself a 3x3 stride-1 conv: of dy with the kernel rotated
// by 180 degrees and its channel axes swapped, padded by 2 - pad on each side.
template <typename T> std::vector<float> rotated_kernel(const Geometry& g, const T* w) {
  const int64_t C = g.c, F = g.f;
  std::vector<float> rotated(9 * C * F);
  for (int64_t tap = 0; tap < 9; ++tap)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t f = 0; f < F; ++f) rotated[(tap * F + f) * C + c] = float(w[((8 - tap) * C + c) * F + f]);
  return rotated;
}

// The input gradient's own variant: its conv has F input channels and C filters over an (h, w) output.
int input_grad_variant(const Geometry& g) {
  return choose_winograd(g_winograd_variant, g.n, g.in[1], g.in[2], g.f, g.c);
}

// dx of a conv with a (rotated) float32 kernel by F(4x4); T is float or bf16.
template <typename T> void winograd4_input_grad(const Geometry& g, const float* rotated, const T* dy, T* dx) {
  winograd4_conv3x3(dy, g.n, g.out[1], g.out[2], g.f, rotated, g.c, 2 - g.pb[1], 2 - g.pb[2], g.in[1], g.in[2], nullptr,
                    dx);
}

void winograd_input_grad(const Geometry& g, const float* w, const float* dy, float* dx, int64_t workspace_limit) {
  const std::vector<float> rotated = rotated_kernel(g, w);
  if (input_grad_variant(g) == 4) winograd4_input_grad(g, rotated.data(), dy, dx);
  else
    winograd_conv3x3(dy, g.n, g.out[1], g.out[2], g.f, rotated.data(), g.c, 2 - g.pb[1], 2 - g.pb[2], g.in[1], g.in[2],
                     nullptr, dx, workspace_limit);
}

}  // namespace

namespace conv_detail {

bool fast_forward(const Geometry& g, const float* x, const float* w, const float* bias, float* y,
                  int64_t workspace_limit) {
  const int variant = winograd_variant(g);
  if (variant == 4) {
    winograd4_conv3x3(x, g.n, g.in[1], g.in[2], g.c, w, g.f, g.pb[1], g.pb[2], g.out[1], g.out[2], bias, y);
    return true;
  }
  if (use_rows(g)) {
    rows_conv_forward(rows_geometry(g), x, w, bias, y);
    return true;
  }
  if (variant == 2) {
    winograd_conv3x3(x, g.n, g.in[1], g.in[2], g.c, w, g.f, g.pb[1], g.pb[2], g.out[1], g.out[2], bias, y,
                     workspace_limit);
    return true;
  }
  return false;
}

void fast_backward(const Geometry& g, const float* x, const float* w, const float* dy, float*& dx, float*& dkernel,
                   float*& dbias, int64_t workspace_limit) {
  auto bias_grad = [&] {
    if (dbias) bias_gradient(dy, g.rows(), g.f, dbias);
    dbias = nullptr;
  };
  if (dx && use_winograd(g)) {
    winograd_input_grad(g, w, dy, dx, workspace_limit);
    dx = nullptr;
  }
  if (use_rows(g) && (x || !dkernel)) {
    const bool dx_rows = dx && g.c >= kRowsMinColumns;  // else the caller's im2col computes dx
    rows_conv_backward(rows_geometry(g), x, w, dy, dx_rows ? dx : nullptr, dkernel);
    if (dx_rows) dx = nullptr;
    dkernel = nullptr;
    bias_grad();
  } else if (dkernel && x && winograd_variant(g) == 4) {
    winograd4_kernel_grad(x, g.n, g.in[1], g.in[2], g.c, dy, g.f, g.pb[1], g.pb[2], g.out[1], g.out[2], dkernel);
    dkernel = nullptr;
    bias_grad();
  }
}

bool winograd_takes(const Geometry& g) {
  const bool conv1d_f45 = use_rows(g) && g.in[1] == 1 && g.k[1] == 1 && winograd1d_applicable(g.k[2], g.c, g.f);
  return winograd_variant(g) != 0 || conv1d_f45;  // as fast_forward and rows_conv_forward choose
}

bool winograd4_bf16_takes(const Geometry& g, bool input_grad) {
  return winograd_variant(g) == 4 && (!input_grad || input_grad_variant(g) == 4);
}

bool winograd4_bf16_forward(const Geometry& g, const bf16* x, const bf16* w, const bf16* bias, bf16* y) {
  if (!winograd4_bf16_takes(g, false)) return false;
  std::vector<float> wf(9 * g.c * g.f), bf(bias ? g.f : 0);
  bf16_to_float(w, wf.data(), int64_t(wf.size()));
  if (bias) bf16_to_float(bias, bf.data(), g.f);
  winograd4_conv3x3(x, g.n, g.in[1], g.in[2], g.c, wf.data(), g.f, g.pb[1], g.pb[2], g.out[1], g.out[2],
                    bias ? bf.data() : nullptr, y);
  return true;
}

bool winograd4_bf16_backward(const Geometry& g, const bf16* x, const bf16* w, const bf16* dy, bf16* dx,
                             float* dkernel) {
  if (!winograd4_bf16_takes(g, dx != nullptr)) return false;
  if (dx) winograd4_input_grad(g, rotated_kernel(g, w).data(), dy, dx);
  if (dkernel)
    winograd4_kernel_grad(x, g.n, g.in[1], g.in[2], g.c, dy, g.f, g.pb[1], g.pb[2], g.out[1], g.out[2], dkernel);
  return true;
}

int64_t fast_workspace_bytes(const Geometry& g, int64_t workspace_limit) {
  if (use_rows(g)) return rows_conv_workspace_bytes(rows_geometry(g));
  const int variant = winograd_variant(g);
  if (variant == 4) return winograd4_workspace_bytes(g.n, g.out[1], g.out[2], g.c, g.f, true);
  if (variant == 2) return winograd_workspace_bytes(g.n, g.out[1], g.out[2], g.c, g.f, workspace_limit);
  return -1;
}

}  // namespace conv_detail

void conv_set_winograd(bool enabled) { g_winograd = enabled; }
void conv_set_sliding_rows(bool enabled) { g_rows = enabled; }
bool conv_sliding_rows() { return g_rows; }
void conv_set_winograd_variant(const std::string& name) { g_winograd_variant = parse_winograd_variant(name); }
std::string conv_winograd_variant() { return winograd_variant_name(g_winograd_variant); }
bool conv_winograd() { return g_winograd; }

}  // namespace kcore
