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

// Every kernel call runs with denormals flushed and without the GIL, so other Python threads
// run while a kernel works (the arguments are C++ tensors by then; results convert after the
// GIL is back). A function bound with it must not touch Python objects (py::object, py::array):
// take those in a binding without the guard and release the GIL inside, as rnn_bindings.cpp does.
// HeavyKernel is the same guard, kept as a name for the long-running ops.
using Kernel = py::call_guard<DenormalGuard, py::gil_scoped_release>;
using HeavyKernel = Kernel;

}  // namespace kcore::python

#define KCORE_BINDINGS(name)                                                     \
  static void kcore_bind_##name(pybind11::module_& m);                           \
  static ::kcore::python::RegisterBindings kcore_register_##name(&kcore_bind_##name); \
  static void kcore_bind_##name(pybind11::module_& m)
