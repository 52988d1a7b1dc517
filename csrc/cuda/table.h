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

}  // namespace kcore::cuda
