// Each csrc/python/*.cpp registers its functions with KCORE_BINDINGS; module.cpp runs them all.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <functional>
#include <string>
#include <vector>

#include "core/parallel.h"
#include "core/tensor.h"
#include "ops/float_compute.h"

namespace kcore::python {
namespace py = pybind11;

// "cpu" / "cuda" (also "cuda:0", "gpu") as a Device.
inline Device device_from_name(const std::string& name) {
  if (name == "cpu") return Device::cpu;
  if (name == "cuda" || name == "cuda:0" || name == "gpu") return Device::cuda;
  throw ValueError("unknown device '" + name + "' (kcore knows 'cpu' and 'cuda')");
}

using Binder = void (*)(py::module_&);
std::vector<Binder>& binders();

struct RegisterBindings {
  explicit RegisterBindings(Binder b) { binders().push_back(b); }
};

// Ops bound with this guard run with denormals flushed and without the GIL, so other Python threads
// run while they work (the arguments are C++ tensors by then; results convert after the GIL is
// back). A function bound with it must not touch Python objects (py::object, py::array): take those
// in a binding without the guard and release the GIL inside, as rnn_bindings.cpp does. The op lists
// bound with KCORE_DEF_KERNEL release the GIL only for large tensors (KernelCall below).
using Kernel = py::call_guard<DenormalGuard, py::gil_scoped_release>;

// Elements an op's tensors must hold before KernelCall releases the GIL: releasing and taking it
// back costs about 0.1 µs, more than a small elementwise op itself, and a step of a small model
// makes dozens of such calls.
constexpr int64_t kReleaseGilFrom = int64_t(1) << 15;

inline int64_t elements_of(const Tensor& t) { return t.defined() ? t.numel() : 0; }
inline int64_t elements_of(const std::vector<Tensor>& ts) {
  int64_t n = 0;
  for (const auto& t : ts) n += elements_of(t);
  return n;
}
template <typename T> int64_t elements_of(const T&) { return 0; }

// The op entry point Fn as bound by KCORE_DEF_KERNEL: denormals flushed, and the GIL released when
// its tensors are large enough for the kernel to take a while (kReleaseGilFrom).
template <auto Fn> struct KernelCall;
template <typename R, typename... A, R (*Fn)(A...)> struct KernelCall<Fn> {
  static R call(A... args) {
    DenormalGuard denormals;
    if ((int64_t(0) + ... + elements_of(args)) < kReleaseGilFrom) return Fn(std::forward<A>(args)...);
    py::gil_scoped_release released;
    return Fn(std::forward<A>(args)...);
  }
};

}  // namespace kcore::python

// Shape (core/shape.h) <-> a Python sequence of ints, exactly as std::vector<int64_t> converts
// (same accepted inputs, same signature text); results come back as a list.
namespace pybind11::detail {
template <> struct type_caster<kcore::Shape> : list_caster<kcore::Shape, int64_t> {};
}  // namespace pybind11::detail

// OptionalTensor (core/tensor.h) <-> `Tensor | None`: None loads as an undefined tensor and an
// undefined result returns None, so an op with optional tensors binds directly, in one line.
namespace pybind11::detail {
template <> struct type_caster<kcore::OptionalTensor> {
  using tensor_caster = make_caster<kcore::Tensor>;
  PYBIND11_TYPE_CASTER(kcore::OptionalTensor, tensor_caster::name | make_caster<none>::name);
  bool load(handle src, bool convert) {
    if (src.is_none()) {
      value = kcore::OptionalTensor();
      return true;
    }
    tensor_caster inner;
    if (!inner.load(src, convert)) return false;
    value = cast_op<const kcore::Tensor&>(inner);
    return true;
  }
  static handle cast(const kcore::OptionalTensor& t, return_value_policy, handle parent) {
    if (!t.defined()) return none().release();
    return tensor_caster::cast(static_cast<const kcore::Tensor&>(t), return_value_policy::copy, parent);
  }
};
}  // namespace pybind11::detail

// m.def(name, kcore::name, extra...): the binding of an op entry point (ops/<family>.h) that takes
// bfloat16 operands as they are (views, data movement, ops with native bf16 kernels).
#define KCORE_DEF(m, name, ...) (m).def(#name, &::kcore::name, ##__VA_ARGS__)
// Inside KCORE_BINDINGS, with a family's list of op names (FAMILY_OPS(KCORE_DEF_KERNEL) binds them all):
// an op called through KernelCall (denormals flushed, the GIL released for large tensors) whose bf16
// operands are computed in float32 (ops/float_compute.h): the default.
#define KCORE_DEF_KERNEL(name) (m).def(#name, &::kcore::python::KernelCall<KCORE_FLOAT_COMPUTE(name)>::call);
// An op whose entry point handles bf16 itself (data movement), through KernelCall.
#define KCORE_DEF_KERNEL_ANY_DTYPE(name) (m).def(#name, &::kcore::python::KernelCall<&::kcore::name>::call);
// An op whose kernels take bf16 when every floating operand is bf16 (ops/float_compute.h), through KernelCall.
#define KCORE_DEF_KERNEL_BF16(name) \
  (m).def(#name, &::kcore::python::KernelCall<KCORE_FLOAT_COMPUTE_IF_MIXED(name)>::call);
// An op with its own bf16 kernels bound with pybind11 extras (argument names, the Kernel() guard, docs).
#define KCORE_DEF_BF16(m, name, ...) (m).def(#name, KCORE_FLOAT_COMPUTE_IF_MIXED(name), ##__VA_ARGS__)

// Binds enum E as Python's `name`, one value per entry of the X-macro list LIST (the list the enum is made of).
#define KCORE_ENUM_VALUE(entry) kcore_enum.value(#entry, Enum::entry);
#define KCORE_BIND_ENUM(m, E, name, LIST) \
  do { \
    using Enum = E; \
    pybind11::enum_<E> kcore_enum(m, name); \
    LIST(KCORE_ENUM_VALUE) \
  } while (0)

#define KCORE_BINDINGS(name) \
  static void kcore_bind_##name(pybind11::module_& m); \
  static ::kcore::python::RegisterBindings kcore_register_##name(&kcore_bind_##name); \
  static void kcore_bind_##name(pybind11::module_& m)
