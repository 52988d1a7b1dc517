// Routing at the binding layer: each public op goes to the CPU kernel or to the kernel the
// device extension registered (core/dispatch.h), chosen by the devices of its tensor
// arguments. The CPU path costs one device check per tensor argument.
#pragma once
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/checked.h"
#include "core/dispatch.h"

namespace kcore::python {

struct DeviceScan {
  bool cpu = false, cuda = false;
};
inline void scan(DeviceScan& s, const Tensor& t) {
  if (t.defined()) (t.device() == Device::cpu ? s.cpu : s.cuda) = true;
}
inline void scan(DeviceScan& s, const std::vector<Tensor>& ts) {
  for (const auto& t : ts) scan(s, t);
}
template <typename T>
void scan(DeviceScan&, const T&) {}  // non-tensor arguments

// True when the tensors are on cuda; a ValueError naming the op when devices are mixed.
template <typename... A>
bool on_cuda(const char* op, const A&... args) {
  DeviceScan s;
  (scan(s, args), ...);
  if (s.cpu && s.cuda)
    throw ValueError(std::string(op) +
                     ": operands are on different devices (cpu and cuda); move them to one device with .to()");
  return s.cuda;
}

// The CUDA kernel in `slot`, or NotImplementedError naming the op.
template <typename F>
F cuda_kernel(const char* op, F DeviceOps::*slot) {
  F fn = require_cuda(op).*slot;
  if (!fn) throw NotImplementedError(std::string(op) + " is not implemented on cuda yet");
  return fn;
}

// Runs fn(args...) as op `op`: size and memory errors raised inside name it (core/checked.h), and
// a failed std:: allocation becomes a MemoryError naming it instead of "std::bad_alloc".
template <typename Fn, typename... A>
decltype(auto) run_as(const char* op, Fn&& fn, A&&... args) {
  OpScope scope(op);
  try {
    return fn(std::forward<A>(args)...);
  } catch (const std::bad_alloc&) {
    throw MemoryError(std::string(op) + ": out of memory");
  } catch (const std::length_error& e) {
    throw MemoryError(std::string(op) + ": a buffer size is too large (" + e.what() + ")");
  }
}

// The kernel for the tensors' device (cpu or the slot of the registered table), run as `op`.
template <typename R, typename... A>
auto pick(const char* op, bool cuda, R (*cpu)(A...), R (*DeviceOps::*slot)(A...)) {
  R (*fn)(A...) = cuda ? cuda_kernel(op, slot) : cpu;
  return [op, fn](A... args) -> R { return run_as(op, fn, std::forward<A>(args)...); };
}

// A callable with cpu's signature that routes by the devices of its tensor arguments.
template <typename R, typename... A>
auto routed(const char* op, R (*cpu)(A...), R (*DeviceOps::*slot)(A...)) {
  return [op, cpu, slot](A... args) -> R {
    auto fn = on_cuda(op, args...) ? cuda_kernel(op, slot) : cpu;
    return run_as(op, fn, std::forward<A>(args)...);
  };
}

// A callable with fn's signature that runs it as `op` (bindings that need no routing).
template <typename R, typename... A>
auto named(const char* op, R (*fn)(A...)) {
  return [op, fn](A... args) -> R { return run_as(op, fn, std::forward<A>(args)...); };
}

}  // namespace kcore::python

// m.def(name, routed kernel, guard): the binding of a device-routed op.
#define KCORE_DEF_ROUTED(m, name, ...) \
  (m).def(#name, ::kcore::python::routed(#name, &::kcore::name, &::kcore::DeviceOps::name), ##__VA_ARGS__)
