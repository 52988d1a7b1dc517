// How an op family declares its device kernels, once. A family header (ops/norm.h...) writes
// its kernels as an X-macro list of (return type, name, parameter list):
//
//   #define KCORE_NORM_KERNELS(X) X(void, layer_norm, (const Tensor& x, ..., Tensor& y))
//   KCORE_DECLARE_KERNELS(KCORE_NORM_KERNELS)
//
// which declares kcore::cpu::layer_norm and kcore::cuda::layer_norm with that signature. The
// kernel table (ops/kernels.h) gets one slot per entry from the same list, the CPU table and
// the CUDA table (cuda/module.cpp) are filled from it, so a signature is never restated.
// Kernels only compute: the op's entry point (ops/<family>.cpp) has already validated the
// arguments, made inputs contiguous and allocated the outputs on the inputs' device.
#pragma once
#include <tuple>
#include <utility>

#include "core/tensor.h"

namespace kcore {

// Return types of multi-output kernels (a comma would split the macro argument).
using TensorPair = std::pair<Tensor, Tensor>;
using TensorTriple = std::tuple<Tensor, Tensor, Tensor>;

}  // namespace kcore

#define KCORE_KERNEL_DECLARATION(ret, name, params) ret name params;
// Inside namespace kcore: declares every kernel of LIST in kcore::cpu and kcore::cuda.
#define KCORE_DECLARE_KERNELS(LIST) \
  namespace cpu { \
  LIST(KCORE_KERNEL_DECLARATION) \
  } \
  namespace cuda { \
  LIST(KCORE_KERNEL_DECLARATION) \
  }
