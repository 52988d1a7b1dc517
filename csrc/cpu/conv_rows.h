// Internal to the conv kernels: float32 Conv1D with stride 1, no dilation and one group, as GEMMs
// whose A operand is a sliding window over the (padded) input rows, so no im2col copy is made.
#pragma once
#include <cstdint>

namespace kcore {

struct RowsConv {
  int64_t n, length, c, k, f, pad_before, out_length;  // input (n, length, c), kernel (k, c, f)
};

// Whether the padding fits the kernel (pad_before, pad_after <= k - 1, as Keras's paddings are).
bool rows_conv_applicable(int64_t k, int64_t pad_before, int64_t pad_after);

// Bytes of the largest of the forward's and backward's buffers (padded rows, reversed kernel, partials).
int64_t rows_conv_workspace_bytes(const RowsConv& g);

// y (n, out_length, f) = conv(x) + bias (bias may be null).
void rows_conv_forward(const RowsConv& g, const float* x, const float* w, const float* bias, float* y);

// Gradients for output gradient dy (n, out_length, f); dx and/or dw may be null.
void rows_conv_backward(const RowsConv& g, const float* x, const float* w, const float* dy, float* dx, float* dw);

}  // namespace kcore
