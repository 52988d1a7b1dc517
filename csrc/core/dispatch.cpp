#include "core/dispatch.h"

#include <string>

namespace kcore {

namespace {
const DeviceOps* g_cuda_ops = nullptr;
}

const DeviceOps* cuda_ops() { return g_cuda_ops; }

void set_cuda_ops(const DeviceOps* ops) {
  KCORE_CHECK(ops == nullptr || ops->abi == kDeviceOpsAbi,
              "kcore._C_cuda was built against another kcore engine (device table ABI "
                  << (ops ? ops->abi : 0) << ", expected " << kDeviceOpsAbi << "); rebuild kcore");
  g_cuda_ops = ops;
}

const DeviceOps& require_cuda(const char* op) {
  if (!g_cuda_ops)
    throw DeviceError(std::string(op) +
                      ": tensor is on cuda but the CUDA extension is not loaded (import kcore.cuda and check "
                      "kcore.cuda.is_available())");
  return *g_cuda_ops;
}

}  // namespace kcore
