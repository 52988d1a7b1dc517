#include "core/dispatch.h"

#include <string>

namespace kcore {

namespace {
const DeviceStorage* g_cuda_storage = nullptr;
}

const DeviceStorage* cuda_storage() { return g_cuda_storage; }

void set_cuda_storage(const DeviceStorage* storage) { g_cuda_storage = storage; }

void throw_cuda_not_loaded(const char* op) {
  throw DeviceError(std::string(op) +
                    ": tensor is on cuda but the CUDA extension is not loaded (import kcore.cuda and check "
                    "kcore.cuda.is_available())");
}

const DeviceStorage& require_cuda(const char* op) {
  if (!g_cuda_storage) throw_cuda_not_loaded(op);
  return *g_cuda_storage;
}

}  // namespace kcore
