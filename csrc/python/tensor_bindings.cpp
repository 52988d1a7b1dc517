// The native Tensor as seen from Python: zero-copy to and from NumPy.
#include "python/bindings.h"
#include "core/checked.h"

namespace kcore::python {
namespace {

DType dtype_from_numpy(const py::dtype& dt) {
  if (dt.itemsize() == 2 && std::string(py::str(dt)) == "bfloat16") return DType::bf16;  // ml_dtypes.bfloat16
  switch (dt.kind()) {
    case 'f':
      if (dt.itemsize() == 4) return DType::f32;
      if (dt.itemsize() == 8) return DType::f64;
      break;
    case 'i':
      if (dt.itemsize() == 4) return DType::i32;
      if (dt.itemsize() == 8) return DType::i64;
      break;
    case 'b': return DType::b8;
  }
  throw TypeError("kcore tensors hold float32, float64, bfloat16, int32, int64 or bool data; got NumPy dtype " +
                  std::string(py::str(dt)));
}

std::string format_of(DType t) {
  switch (t) {
    case DType::f32: return py::format_descriptor<float>::format();
    case DType::f64: return py::format_descriptor<double>::format();
    case DType::i32: return py::format_descriptor<int32_t>::format();
    case DType::b8: return py::format_descriptor<bool>::format();
    case DType::bf16: return py::format_descriptor<uint16_t>::format();  // kcore.Tensor.numpy() views it as bfloat16
    default: return py::format_descriptor<int64_t>::format();
  }
}

DType dtype_from_name(const std::string& name) {
  if (name == "float32") return DType::f32;
  if (name == "float64") return DType::f64;
  if (name == "int32") return DType::i32;
  if (name == "int64") return DType::i64;
  if (name == "bool") return DType::b8;
  if (name == "bfloat16") return DType::bf16;
  throw TypeError("unsupported dtype '" + name + "' (kcore supports float32, float64, bfloat16, int32, int64, bool)");
}

// Wraps a C-contiguous NumPy array without copying; the array stays alive with the storage.
// A read-only array (np.load(mmap_mode='r'), a frozen array) is wrapped too: ops only read
// their inputs, its host buffer is exported read-only and copy_from refuses to write it.
Tensor from_numpy(py::array arr) {
  DType dt = dtype_from_numpy(arr.dtype());
  if (!(arr.flags() & py::array::c_style)) throw ValueError("from_numpy: array must be C-contiguous");
  auto st = std::make_shared<Storage>();
  st->readonly = !arr.writeable();
  st->data = const_cast<void*>(arr.data());
  st->nbytes = arr.nbytes();
  auto* owner = new py::object(arr);
  st->release = [owner](void*) {
    py::gil_scoped_acquire gil;
    delete owner;
  };
  Shape shape(arr.shape(), arr.shape() + arr.ndim());
  return Tensor(st, shape, dt);
}

}  // namespace
}  // namespace kcore::python

using namespace kcore;
using namespace kcore::python;

// A shape as a Python tuple of ints, built directly (no intermediate list).
static py::tuple as_tuple(const Shape& s) {
  py::tuple out(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    PyObject* v = PyLong_FromLongLong(s[i]);
    if (!v) throw py::error_already_set();
    PyTuple_SET_ITEM(out.ptr(), (ssize_t)i, v);
  }
  return out;
}

KCORE_BINDINGS(tensor) {
  py::class_<Tensor>(m, "Tensor", py::buffer_protocol())
      .def_buffer([](Tensor& t) -> py::buffer_info {
        if (t.device() != Device::cpu)
          throw ValueError("a cuda tensor has no host buffer: copy it to the CPU first with .to('cpu')");
        const ssize_t es = (ssize_t)dtype_size(t.dtype());
        std::vector<ssize_t> shape(t.shape().begin(), t.shape().end()), strides(t.strides().begin(), t.strides().end());
        for (auto& s : strides) s *= es;
        return py::buffer_info(t.numel() ? t.raw() : t.storage()->data, es, format_of(t.dtype()), (ssize_t)t.ndim(),
                               shape, strides, t.storage()->readonly);
      })
      .def_property_readonly("shape", [](const Tensor& t) { return as_tuple(t.shape()); })
      .def_property_readonly("strides", [](const Tensor& t) { return as_tuple(t.strides()); })
      .def_property_readonly("dtype", [](const Tensor& t) { return std::string(dtype_name(t.dtype())); })
      .def_property_readonly("ndim", &Tensor::ndim)
      .def_property_readonly("size", &Tensor::numel)
      .def_property_readonly("device", [](const Tensor& t) { return t.device() == Device::cpu ? "cpu" : "cuda"; })
      .def("is_contiguous", &Tensor::is_contiguous)
      .def(
          "contiguous",
          [](const Tensor& t) {
            OpScope scope("contiguous");
            return t.contiguous();
          },
          Kernel())
      .def(
          "clone",
          [](const Tensor& t) {
            OpScope scope("clone");
            return t.clone();
          },
          Kernel())
      .def(
          "astype",
          [](const Tensor& t, const std::string& d) {
            OpScope scope("astype");
            return t.astype(dtype_from_name(d));
          },
          Kernel())
      .def(
          "copy_from",
          [](Tensor& t, const Tensor& src) {
            if (t.storage() && t.storage()->readonly)
              throw ValueError("copy_from: the destination wraps a read-only NumPy array and cannot be written");
            t.copy_from(src);
          },
          Kernel())
      .def_property_readonly("readonly", [](const Tensor& t) { return t.storage() && t.storage()->readonly; })
      .def("data_ptr", [](const Tensor& t) { return (uintptr_t)t.raw(); })
      .def("shares_memory", [](const Tensor& a, const Tensor& b) { return a.storage() == b.storage(); });
  m.def("from_numpy", &from_numpy, py::arg("array"));
  m.def("cpu_has_avx512_bf16", &cpu_has_avx512_bf16, "Whether the CPU (and this build) has AVX512-BF16.");
  m.def(
      "float_to_bf16_ftz",
      [](const Tensor& x, bool portable) {
        OpScope scope("float_to_bf16_ftz");
        KCORE_CHECK(x.dtype() == DType::f32 && x.device() == Device::cpu,
                    "float_to_bf16_ftz: expected a float32 CPU tensor, got " << dtype_name(x.dtype()));
        Tensor src = x.contiguous(), out = Tensor::empty(x.shape(), DType::bf16);
        (portable ? float_to_bf16_ftz_portable : float_to_bf16_ftz)(src.data<float>(), out.data<bf16>(), src.numel());
        return out;
      },
      py::arg("x"), py::arg("portable") = false,
      "Testing entry point of the packing conversion kernels use (denormals flushed to zero).");
  m.def(
      "empty",
      [](const Shape& s, const std::string& d, const std::string& dev) {
        OpScope scope("empty");
        return Tensor::empty(s, dtype_from_name(d), device_from_name(dev));
      },
      py::arg("shape"), py::arg("dtype"), py::arg("device") = "cpu", Kernel());
  m.def(
      "zeros",
      [](const Shape& s, const std::string& d, const std::string& dev) {
        OpScope scope("zeros");
        return Tensor::zeros(s, dtype_from_name(d), device_from_name(dev));
      },
      py::arg("shape"), py::arg("dtype"), py::arg("device") = "cpu", Kernel());
  m.def(
      "full",
      [](const Shape& s, const std::string& d, double v, const std::string& dev) {
        OpScope scope("full");
        return Tensor::full(s, dtype_from_name(d), v, device_from_name(dev));
      },
      py::arg("shape"), py::arg("dtype"), py::arg("value"), py::arg("device") = "cpu", Kernel());
}
