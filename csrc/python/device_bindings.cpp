// Devices from Python: registering the CUDA kernel table, moving tensors between devices,
// and zero-copy DLPack exchange (CPU and CUDA memory alike).
#include <pybind11/pybind11.h>

#include "ops/kernels.h"
#include "core/dlpack.h"
#include "python/bindings.h"

namespace kcore::python {
namespace {

constexpr const char* kCapsuleTable = "kcore.KernelTable";

void register_cuda_ops(py::capsule table) {
  if (std::string(table.name() ? table.name() : "") != kCapsuleTable)
    throw ValueError("_register_cuda_ops: expected a kcore.KernelTable capsule");
  set_cuda_kernels(table.get_pointer<KernelTable>());
}

// ---- DLPack export -------------------------------------------------------------

struct ExportCtx {
  Tensor tensor;         // keeps the storage alive
  Shape shape, strides;  // the DLTensor points into these (the context never moves)
  KcDLManagedTensor managed;
};

KcDLDataType dl_dtype(DType t) {
  switch (t) {
    case DType::f32: return {kKcDLFloat, 32, 1};
    case DType::f64: return {kKcDLFloat, 64, 1};
    case DType::i32: return {kKcDLInt, 32, 1};
    case DType::b8: return {kKcDLBool, 8, 1};
    case DType::bf16: return {kKcDLBfloat, 16, 1};
    default: return {kKcDLInt, 64, 1};
  }
}

void delete_export(KcDLManagedTensor* m) { delete static_cast<ExportCtx*>(m->manager_ctx); }

void capsule_destructor(PyObject* cap) {
  // Called when the capsule dies unconsumed (a consumer renames it to "used_dltensor").
  if (PyCapsule_IsValid(cap, "dltensor")) {
    auto* m = static_cast<KcDLManagedTensor*>(PyCapsule_GetPointer(cap, "dltensor"));
    if (m && m->deleter) m->deleter(m);
  }
}

py::capsule to_dlpack(const Tensor& t) {
  auto* ctx = new ExportCtx{t, t.shape(), t.strides(), {}};
  KcDLTensor& dl = ctx->managed.dl_tensor;
  dl.data = t.numel() ? t.raw() : t.storage()->data;
  dl.device = {t.device() == Device::cpu ? kKcDLCPU : kKcDLCUDA, 0};
  dl.ndim = (int32_t)t.ndim();
  dl.dtype = dl_dtype(t.dtype());
  dl.shape = ctx->shape.data();
  dl.strides = ctx->strides.data();
  dl.byte_offset = 0;
  ctx->managed.manager_ctx = ctx;
  ctx->managed.deleter = &delete_export;
  PyObject* cap = PyCapsule_New(&ctx->managed, "dltensor", &capsule_destructor);
  if (!cap) {
    delete ctx;
    throw py::error_already_set();
  }
  return py::reinterpret_steal<py::capsule>(cap);
}

// ---- DLPack import ---------------------------------------------------------------

DType dtype_from_dl(const KcDLDataType& d) {
  if (d.lanes == 1 && d.code == kKcDLFloat && d.bits == 32) return DType::f32;
  if (d.lanes == 1 && d.code == kKcDLFloat && d.bits == 64) return DType::f64;
  if (d.lanes == 1 && d.code == kKcDLInt && d.bits == 32) return DType::i32;
  if (d.lanes == 1 && d.code == kKcDLInt && d.bits == 64) return DType::i64;
  if (d.lanes == 1 && d.code == kKcDLBool && d.bits == 8) return DType::b8;
  if (d.lanes == 1 && d.code == kKcDLBfloat && d.bits == 16) return DType::bf16;
  throw TypeError("from_dlpack: kcore tensors hold float32, float64, bfloat16, int32, int64 or bool data");
}

Device device_from_dl(const KcDLDevice& d) {
  if (d.device_type == kKcDLCPU) return Device::cpu;
  if (d.device_type == kKcDLCUDA || d.device_type == kKcDLCUDAManaged) {
    KCORE_CHECK(d.device_id == 0, "from_dlpack: kcore uses CUDA device 0, got a tensor on device " << d.device_id);
    return Device::cuda;
  }
  throw ValueError("from_dlpack: unsupported DLPack device type " + std::to_string(d.device_type));
}

// Wraps a "dltensor" capsule without copying; the producer's deleter runs when the storage dies.
Tensor from_dlpack_capsule(py::capsule cap) {
  PyObject* obj = cap.ptr();
  if (!PyCapsule_IsValid(obj, "dltensor")) throw ValueError("from_dlpack: expected an unconsumed 'dltensor' capsule");
  auto* m = static_cast<KcDLManagedTensor*>(PyCapsule_GetPointer(obj, "dltensor"));
  const KcDLTensor& dl = m->dl_tensor;
  DType dtype = dtype_from_dl(dl.dtype);
  Device device = device_from_dl(dl.device);
  if (dtype == DType::bf16 && device != Device::cpu) throw_bf16_on_cuda("from_dlpack");
  Shape shape(dl.shape, dl.shape + dl.ndim);
  Shape strides = dl.strides ? Shape(dl.strides, dl.strides + dl.ndim) : contiguous_strides(shape);
  auto st = std::make_shared<Storage>();
  st->data = static_cast<char*>(dl.data) + dl.byte_offset;
  st->device = device;
  st->release = [m](void*) {
    py::gil_scoped_acquire gil;  // producers' deleters may touch Python objects
    if (m->deleter) m->deleter(m);
  };
  PyCapsule_SetName(obj, "used_dltensor");
  PyCapsule_SetDestructor(obj, nullptr);
  Tensor t(st, shape, dtype);
  return t.as_strided(shape, strides, 0);
}

}  // namespace
}  // namespace kcore::python

using namespace kcore;
using namespace kcore::python;

KCORE_BINDINGS(device) {
  m.def("_register_cuda_ops", &register_cuda_ops, py::arg("table"));
  m.def("_unregister_cuda_ops", [] { set_cuda_kernels(nullptr); });
  m.def("cuda_ops_registered", [] { return cuda_kernels() != nullptr; });
  m.def(
      "to_device", [](const Tensor& t, const std::string& d) { return t.to(device_from_name(d)); }, py::arg("tensor"),
      py::arg("device"), Kernel());
  m.def("to_dlpack", &to_dlpack, py::arg("tensor"));
  m.def("from_dlpack_capsule", &from_dlpack_capsule, py::arg("capsule"));
}
