// The kernel table: one slot per device kernel of every op family, generated from the families'
// kernel lists (ops/kernel_decl.h). The CPU table is built in ops/kernels.cpp; a device extension
// (kcore._C_cuda) builds its own from the same lists and registers it at import. Entry points
// (ops/<family>.cpp) reach kernels through OpCall (ops/op_call.h), never through this table
// directly. A null slot means "not implemented on that device": NotImplementedError naming it.
#pragma once
#include "core/dispatch.h"
#include "ops/conv.h"
#include "ops/conv_lstm.h"
#include "ops/elementwise.h"
#include "ops/linalg.h"
#include "ops/loss.h"
#include "ops/norm.h"
#include "ops/optim.h"
#include "ops/pool.h"
#include "ops/random.h"
#include "ops/reduce.h"
#include "ops/rnn.h"
#include "ops/shape.h"

namespace kcore {

// Every family's kernel list: a new family adds its list here (and, when it has CUDA kernels,
// to cuda/module.cpp's KCORE_CUDA_KERNELS).
// clang-format off
#define KCORE_KERNELS(X)                                                                       \
  KCORE_ELEMENTWISE_KERNELS(X) KCORE_REDUCE_KERNELS(X) KCORE_LINALG_KERNELS(X) KCORE_LOSS_KERNELS(X) \
  KCORE_NORM_KERNELS(X) KCORE_OPTIM_KERNELS(X) KCORE_RANDOM_KERNELS(X) KCORE_SHAPE_KERNELS(X)         \
  KCORE_CONV_KERNELS(X) KCORE_POOL_KERNELS(X) KCORE_CONV_LSTM_KERNELS(X) KCORE_RNN_KERNELS(X)
// clang-format on

// Bump when KernelTable's layout or a kernel's signature changes: _C refuses a device table
// built against another layout. 5: one table generated from the families' kernel lists; 6: ConvLSTM;
// 7: the recurrent ops' kernels (KCORE_RNN_KERNELS) instead of whole-op slots.
constexpr int kKernelAbi = 7;

struct KernelTable {
  int abi = kKernelAbi;
  DeviceStorage storage;  // allocation / fill / copy for the device (null on the CPU table)
#define KCORE_KERNEL_SLOT(ret, name, params) ret(*name) params = nullptr;
  KCORE_KERNELS(KCORE_KERNEL_SLOT)
#undef KCORE_KERNEL_SLOT
};

// The CPU kernels (ops/kernels.cpp).
const KernelTable& cpu_kernels();
// The registered CUDA table, or null when kcore._C_cuda has not been loaded.
const KernelTable* cuda_kernels();
// Registers (or, with null, unregisters) the CUDA table and its storage; checks its ABI.
void set_cuda_kernels(const KernelTable* table);
// The table for `device`; for cuda without a registered table, the error naming `op`.
const KernelTable& kernels_for(Device device, const char* op);

}  // namespace kcore
