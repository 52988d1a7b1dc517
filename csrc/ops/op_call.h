// OpCall: the one mechanism every op's entry point (ops/<family>.cpp) runs through.
//
//   Tensor softmax(const Tensor& x, int64_t axis, bool log) {
//     OpCall call("softmax", x);                      // names the op, finds the operands' device
//     auto kernel = KCORE_KERNEL(call, softmax);       // that device's kernel (before allocating)
//     ... validate, compute the output shape, make inputs contiguous ...
//     Tensor y = call.empty(shape, x.dtype());         // outputs live on the operands' device
//     kernel(...);
//   }
//
// It raises, naming the op: ValueError when operands sit on different devices, RuntimeError when
// they are on cuda and the CUDA extension is not loaded, NotImplementedError when the device has
// no such kernel. For its lifetime the op is the running op (core/checked.h's OpScope): size
// overflows raised below name it, and an exception that escapes it records it so the bindings
// turn std::bad_alloc into a MemoryError naming the op (python/module.cpp).
#pragma once
#include <string>
#include <vector>

#include "core/checked.h"
#include "ops/kernels.h"

namespace kcore {

class OpCall {
 public:
  template <typename... Operands>
  explicit OpCall(const char* name, const Operands&... operands) : scope_(name), name_(name) {
    bool cpu = false, cuda = false;
    bool bf16 = false;
    (scan(operands, cpu, cuda, bf16), ...);
    if (bf16 && cuda) throw_bf16_on_cuda(name);  // before any CUDA kernel could see one
    if (cpu && cuda)
      throw ValueError(std::string(name) +
                       ": operands are on different devices (cpu and cuda); move them to one device with .to()");
    device_ = cuda ? Device::cuda : Device::cpu;
    table_ = &kernels_for(device_, name);
  }
  OpCall(const OpCall&) = delete;
  OpCall& operator=(const OpCall&) = delete;

  const char* name() const { return name_; }
  Device device() const { return device_; }

  // The device's kernel in `slot` (use KCORE_KERNEL), or NotImplementedError naming `kernel`.
  template <typename F> F kernel(F KernelTable::* slot, const char* kernel) const {
    F fn = table_->*slot;
    if (!fn) throw NotImplementedError(std::string(kernel) + " is not implemented on cuda yet");
    return fn;
  }

  // Outputs on the operands' device.
  Tensor empty(const Shape& shape, DType dtype) const { return Tensor::empty(shape, dtype, device_); }
  Tensor zeros(const Shape& shape, DType dtype) const { return Tensor::zeros(shape, dtype, device_); }

 private:
  static void scan(const Tensor& t, bool& cpu, bool& cuda, bool& bf16) {
    if (!t.defined()) return;
    (t.device() == Device::cpu ? cpu : cuda) = true;
    bf16 |= t.dtype() == DType::bf16;
  }
  static void scan(const std::vector<Tensor>& ts, bool& cpu, bool& cuda, bool& bf16) {
    for (const auto& t : ts) scan(t, cpu, cuda, bf16);
  }

  OpScope scope_;
  const char* name_;
  Device device_ = Device::cpu;
  const KernelTable* table_ = nullptr;
};

}  // namespace kcore

// The kernel `name` of the call's device: KCORE_KERNEL(call, softmax).
#define KCORE_KERNEL(call, name) (call).kernel(&::kcore::KernelTable::name, #name)
