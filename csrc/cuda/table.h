// The CUDA module's own declarations: storage plumbing and the table it registers. The kernels
// themselves are declared once, in kcore::cuda, by the op families' kernel lists (ops/*.h via
// ops/kernels.h); each csrc/cuda/<family>.cu defines them.
#pragma once
#include "ops/kernels.h"

namespace kcore::cuda {

// Storage plumbing (tensor_ops.cu).
void fill(Tensor& t, double value);
void copy(Tensor& dst, const Tensor& src);
Tensor astype(const Tensor& x, DType dtype);

// cuBLAS settings (linalg.cu).
void set_allow_tf32(bool allow);
bool allow_tf32();

// The table of the kernels above and of every family in KCORE_CUDA_KERNELS (module.cpp).
const KernelTable& kernel_table();

// conv.cu: the im2col buffer budget per call in bytes (default 256 MiB; at least one image at once).
void conv_set_workspace_limit(int64_t bytes);
int64_t conv_workspace_limit();

// rnn.cu: the recurrent ops, routed whole (KernelTable's rnn slots).
RnnForward rnn_forward(const RnnConfig& cfg, const Tensor& x, const Tensor& kernel, const Tensor& recurrent_kernel,
                       const Tensor& bias, const Tensor& h0, const Tensor& c0, const Tensor& mask,
                       const Tensor& rec_mask);
RnnGrads rnn_backward(const RnnSaved& saved, const Tensor& kernel, const Tensor& recurrent_kernel,
                      const Tensor& grad_outputs, const Tensor& grad_h, const Tensor& grad_c, bool need_x);

}  // namespace kcore::cuda
