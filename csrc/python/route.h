// Transitional: routing at the binding layer, still used by python/rnn_bindings.cpp only (the
// recurrent ops have no device-independent entry point yet). Every other op routes itself in
// its entry point (ops/op_call.h) and binds in one line (KCORE_DEF, python/bindings.h).
// Delete this file when the recurrent bindings stop including it.
#pragma once
#include <new>
#include <stdexcept>
#include <string>

#include "core/checked.h"
#include "ops/kernels.h"

namespace kcore {
using DeviceOps = KernelTable;
}

namespace kcore::python {

// True when the tensors are on cuda; a ValueError naming the op when devices are mixed.
template <typename... A>
bool on_cuda(const char* op, const A&... tensors) {
  bool cpu = false, cuda = false;
  auto scan = [&](const Tensor& t) {
    if (t.defined()) (t.device() == Device::cpu ? cpu : cuda) = true;
  };
  (scan(tensors), ...);
  if (cpu && cuda)
    throw ValueError(std::string(op) +
                     ": operands are on different devices (cpu and cuda); move them to one device with .to()");
  return cuda;
}

// The kernel for the tensors' device (cpu or the slot of the registered table), run as `op`.
template <typename R, typename... A>
auto pick(const char* op, bool cuda, R (*cpu)(A...), R (*KernelTable::*slot)(A...)) {
  R (*fn)(A...) = cpu;
  if (cuda) {
    fn = kernels_for(Device::cuda, op).*slot;
    if (!fn) throw NotImplementedError(std::string(op) + " is not implemented on cuda yet");
  }
  return [op, fn](A... args) -> R {
    OpScope scope(op);
    return fn(std::forward<A>(args)...);
  };
}

}  // namespace kcore::python
