// The geometry of an N-d convolution (ops/conv.h), shared by the CPU kernels (cpu/conv.cpp) and
// the CUDA kernels (cuda/conv.cu): every spatial rank is handled as 3-D (a 1-D conv is (1, 1, W),
// a 2-D conv (1, H, W)). The struct and its index helpers are plain data usable in device code;
// make_conv_geometry (host only) validates the shapes and arguments and says what is wrong.
#pragma once
#include <cstdint>
#include <vector>

#include "core/checked.h"
#include "core/hostdevice.h"
#include "core/tensor.h"
#include "ops/conv.h"

namespace kcore {

// One output pixel: image n and the output coordinates along the three (padded-to-3) axes.
struct ConvPixel {
  int64_t n, o0, o1, o2;
};

struct ConvGeometry {
  int64_t rank = 0, n = 0, c = 0, f = 0, groups = 1;
  int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1}, k[3] = {1, 1, 1};
  int64_t s[3] = {1, 1, 1}, d[3] = {1, 1, 1}, pb[3] = {0, 0, 0}, pa[3] = {0, 0, 0};

  KCORE_HD int64_t kvol() const { return k[0] * k[1] * k[2]; }
  KCORE_HD int64_t cg() const { return c / groups; }       // input channels per group
  KCORE_HD int64_t fg() const { return f / groups; }       // filters per group
  KCORE_HD int64_t cols() const { return kvol() * cg(); }  // K of each group's GEMM
  KCORE_HD int64_t in_pixels() const { return in[0] * in[1] * in[2]; }
  KCORE_HD int64_t out_pixels() const { return out[0] * out[1] * out[2]; }
  KCORE_HD int64_t rows() const { return n * out_pixels(); }  // M of the GEMM
  // A 1x1 conv with unit stride and no padding is a plain GEMM on the input.
  KCORE_HD bool pointwise() const {
    for (int i = 0; i < 3; ++i)
      if (k[i] != 1 || s[i] != 1 || pb[i] != 0 || pa[i] != 0) return false;
    return true;
  }
  // Output row r (batch-major, then o0, o1, o2) as a pixel.
  KCORE_HD ConvPixel decode(int64_t r) const {
    ConvPixel p;
    p.o2 = r % out[2];
    r /= out[2];
    p.o1 = r % out[1];
    r /= out[1];
    p.o0 = r % out[0];
    p.n = r / out[0];
    return p;
  }
  // Input coordinate along axis j read by kernel tap a of output coordinate o (may lie in the padding).
  KCORE_HD int64_t input_coord(int j, int64_t o, int64_t a) const { return o * s[j] - pb[j] + a * d[j]; }
  // The output coordinate along axis j whose tap a reads input coordinate i, or -1 when none does.
  KCORE_HD int64_t output_coord(int j, int64_t i, int64_t a) const {
    const int64_t num = i + pb[j] - a * d[j];
    if (num < 0 || num % s[j] != 0) return -1;
    const int64_t o = num / s[j];
    return o < out[j] ? o : -1;
  }
  Shape out_shape() const {
    Shape sh{n};
    for (int64_t i = 3 - rank; i < 3; ++i) sh.push_back(out[i]);
    sh.push_back(f);
    return sh;
  }
};

inline void check_conv_args(const ConvArgs& a, int64_t rank) {
  auto check_len = [&](const Shape& v, const char* name) {
    KCORE_CHECK((int64_t)v.size() == rank,
                "conv: " << name << " must have one value per spatial axis (" << rank << "), got " << shape_str(v));
  };
  check_len(a.strides, "strides");
  check_len(a.dilation, "dilation_rate");
  check_len(a.pad_before, "pad_before");
  check_len(a.pad_after, "pad_after");
  for (int64_t i = 0; i < rank; ++i) {
    KCORE_CHECK(a.strides[i] >= 1, "conv: strides must be positive, got " << shape_str(a.strides));
    KCORE_CHECK(a.dilation[i] >= 1, "conv: dilation_rate must be positive, got " << shape_str(a.dilation));
    KCORE_CHECK(a.pad_before[i] >= 0 && a.pad_after[i] >= 0, "conv: padding must be non-negative");
  }
}

// Validates a conv of input shape xs and kernel shape ws and returns its geometry.
inline ConvGeometry make_conv_geometry(const Shape& xs, const Shape& ws, const ConvArgs& a) {
  const int64_t rank = (int64_t)ws.size() - 2;
  KCORE_CHECK(rank >= 1 && rank <= 3,
              "conv: kernel must have rank 3, 4 or 5 (*kernel_size, in_channels, filters), "
              "got shape "
                  << shape_str(ws));
  KCORE_CHECK((int64_t)xs.size() == rank + 2, "conv: a " << rank << "-D convolution expects an input of rank "
                                                         << rank + 2 << " (batch, *spatial, channels), got shape "
                                                         << shape_str(xs) << " for kernel " << shape_str(ws)
                                                         << "; add the missing batch or channel axis");
  check_conv_args(a, rank);
  ConvGeometry g;
  g.rank = rank;
  g.n = xs[0];
  g.c = xs.back();
  g.f = ws.back();
  KCORE_CHECK(g.c > 0 && g.f > 0, "conv: inputs and kernel need at least one channel and one filter, got input "
                                      << shape_str(xs) << " and kernel " << shape_str(ws));
  g.groups = a.groups;
  KCORE_CHECK(g.groups >= 1 && g.c % g.groups == 0 && g.f % g.groups == 0,
              "conv: groups=" << a.groups << " must be positive and divide both the input channels (input shape "
                              << shape_str(xs) << ") and the filters (kernel shape " << shape_str(ws) << ")");
  KCORE_CHECK(ws[rank] * g.groups == g.c,
              "conv: input has " << g.c << " channels (shape " << shape_str(xs) << ") but the kernel of shape "
                                 << shape_str(ws) << " with groups=" << g.groups << " expects " << ws[rank] * g.groups);
  for (int64_t i = 0; i < rank; ++i) {
    const int64_t j = 3 - rank + i;
    g.in[j] = xs[1 + i];
    g.k[j] = ws[i];
    g.s[j] = a.strides[i];
    g.d[j] = a.dilation[i];
    g.pb[j] = a.pad_before[i];
    g.pa[j] = a.pad_after[i];
    KCORE_CHECK(g.k[j] >= 1, "conv: kernel sizes must be positive, got kernel shape " << shape_str(ws));
    auto sizes = KCORE_SIZE_WHAT("spatial axis " << i << " (input shape " << shape_str(xs) << ", kernel shape "
                                                 << shape_str(ws) << ", strides " << shape_str(a.strides)
                                                 << ", dilation_rate " << shape_str(a.dilation) << ", padding "
                                                 << shape_str(a.pad_before) << " / " << shape_str(a.pad_after) << ")");
    const int64_t span = checked_add(checked_mul(g.k[j] - 1, g.d[j], sizes), 1, sizes);
    const int64_t padded = checked_add(checked_add(g.in[j], g.pb[j], sizes), g.pa[j], sizes);
    KCORE_CHECK(padded >= span, "conv: spatial axis " << i << " of the input (size " << g.in[j] << ", padded " << padded
                                                      << ") is smaller than the dilated kernel (" << span
                                                      << "); input shape " << shape_str(xs) << ", kernel shape "
                                                      << shape_str(ws));
    g.out[j] = (padded - span) / g.s[j] + 1;
  }
  // the GEMM's rows (batch x output pixels) and columns (kernel volume x channels) must be countable
  auto gemm_sizes = KCORE_SIZE_WHAT("the convolution of input " << shape_str(xs) << " with kernel " << shape_str(ws));
  checked_mul(checked_product({g.n, g.out[0], g.out[1], g.out[2]}, gemm_sizes), g.f, gemm_sizes);
  checked_mul(checked_product({g.k[0], g.k[1], g.k[2], g.c}, gemm_sizes), g.f, gemm_sizes);
  return g;
}

// conv_transpose is the input gradient of the conv that maps its output y back onto its input x:
// that conv has input shape (batch, *out_spatial, F_out) and the same kernel array, whose Keras
// layout for the transpose, (*k, F_out, C_in), is the conv's (*k, Cin=F_out, F=C_in). Returns
// the geometry of that conv after checking that x (batch, *in, C_in) can come from it.
inline ConvGeometry make_conv_transpose_geometry(const Shape& xs, const Shape& ws, const Shape& out_spatial,
                                                 const ConvArgs& args, const char* op) {
  KCORE_CHECK(ws.size() >= 3 && xs.size() == ws.size() && out_spatial.size() == ws.size() - 2,
              op << ": inputs of shape " << shape_str(xs) << ", kernel of shape " << shape_str(ws)
                 << " and output size " << shape_str(out_spatial) << " do not fit together");
  Shape y_shape{xs[0]};
  y_shape.insert(y_shape.end(), out_spatial.begin(), out_spatial.end());
  y_shape.push_back(ws[ws.size() - 2]);
  KCORE_CHECK(args.groups == 1,
              op << ": grouped transposed convolution is not supported (groups=" << args.groups << ")");
  ConvGeometry g = make_conv_geometry(y_shape, ws, args);
  KCORE_CHECK(g.out_shape() == xs, op << ": inputs of shape " << shape_str(xs)
                                      << " cannot come from an output of shape " << shape_str(y_shape)
                                      << " with kernel " << shape_str(ws) << " (the matching conv gives "
                                      << shape_str(g.out_shape()) << ")");
  return g;
}

}  // namespace kcore
