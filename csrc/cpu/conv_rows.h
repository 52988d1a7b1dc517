// Internal to the conv kernels: float32 1-D and 2-D convs with unit strides and dilations and one
// group, as GEMMs whose A operand is a window sliding along an (padded) input row, so no im2col
// copy is made.
#pragma once
#include <cstdint>

namespace kcore {

// Input (n, h, w, c), kernel (kh, kw, c, f), output (n, oh, ow, f); a 1-D conv has h = kh = oh = 1.
struct RowsConv {
  int64_t n, h, w, c, kh, kw, f, pad_top, pad_left, oh, ow;
};

// Whether every padding fits inside the kernel (pad <= kernel size - 1 on each side, as Keras's
// paddings are) and the kernel is more than one tap.
bool rows_conv_applicable(const RowsConv& g, int64_t pad_bottom, int64_t pad_right);

// Bytes of the largest of the forward's and backward's buffers (padded images, reversed kernel, partials).
int64_t rows_conv_workspace_bytes(const RowsConv& g);

// y (n, oh, ow, f) = conv(x) + bias (bias may be null).
void rows_conv_forward(const RowsConv& g, const float* x, const float* w, const float* bias, float* y);

// Gradients for output gradient dy (n, oh, ow, f); dx and/or dw may be null (x may be null without dw).
void rows_conv_backward(const RowsConv& g, const float* x, const float* w, const float* dy, float* dx, float* dw);

}  // namespace kcore
