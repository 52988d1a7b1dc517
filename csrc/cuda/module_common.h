// What kcore._C_cuda and its host emulation kcore._C_cuda_emu (emulate/runtime.cpp) both define:
// the native exception types, the kernel table capsule that kcore._C registers, and the conv
// workspace knob. Each module carries its own copy of the core Tensor code, pointed at the table's
// storage here too.
#pragma once
#include <pybind11/pybind11.h>

#include "cuda/device.h"
#include "cuda/table.h"

namespace kcore::cuda {

// The slots outside the families' kernel lists: the storage plumbing.
inline void set_storage_slots(KernelTable& t) {
  t.storage.empty = &cuda::empty;
  t.storage.fill = &cuda::fill;
  t.storage.copy = &cuda::copy;
  t.storage.astype = &cuda::astype;
}

inline void define_table_module(pybind11::module_& m, const KernelTable& table) {
  namespace py = pybind11;
  py::register_exception<TypeError>(m, "NativeTypeError", PyExc_TypeError);
  py::register_exception<NotImplementedError>(m, "NativeNotImplementedError", PyExc_NotImplementedError);
  set_cuda_storage(&table.storage);
  const KernelTable* t = &table;
  m.def("kernel_table", [t] { return py::capsule(const_cast<KernelTable*>(t), "kcore.KernelTable"); });
  m.def("conv_set_workspace_limit", &conv_set_workspace_limit, py::arg("bytes"),
        "im2col buffer budget of the CUDA convolutions in bytes (at least one image per chunk)");
  m.def("conv_workspace_limit", &conv_workspace_limit);
}

}  // namespace kcore::cuda
