#include "ops/kernels.h"

namespace kcore {

namespace {
const KernelTable* g_cuda_kernels = nullptr;
}

const KernelTable& cpu_kernels() {
  static const KernelTable table = [] {
    KernelTable t;
#define KCORE_CPU_SLOT(ret, name, params) t.name = &cpu::name;
    KCORE_KERNELS(KCORE_CPU_SLOT)
#undef KCORE_CPU_SLOT
    return t;
  }();
  return table;
}

const KernelTable* cuda_kernels() { return g_cuda_kernels; }

void set_cuda_kernels(const KernelTable* table) {
  KCORE_CHECK(table == nullptr || table->abi == kKernelAbi,
              "kcore._C_cuda was built against another kcore engine (kernel table ABI "
                  << (table ? table->abi : 0) << ", expected " << kKernelAbi << "); rebuild kcore");
  g_cuda_kernels = table;
  set_cuda_storage(table ? &table->storage : nullptr);
}

const KernelTable& kernels_for(Device device, const char* op) {
  if (device == Device::cpu) return cpu_kernels();
  if (!g_cuda_kernels) throw_cuda_not_loaded(op);
  return *g_cuda_kernels;
}

}  // namespace kcore
