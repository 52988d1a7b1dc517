// Bindings of the CPU feature check and the bfloat16 GEMM's testing entry point.
#include <utility>

#include "cpu/cpu_features.h"
#include "cpu/gemm_bf16.h"
#include "python/bindings.h"

using namespace kcore;
using namespace kcore::python;

namespace {

py::dict features_dict() {
  const CpuFeatures& f = cpu_features();
  const std::pair<const char*, bool> flags[] = {{"avx512f", f.avx512f},
                                                {"avx512_bf16", f.avx512_bf16},
                                                {"amx_tile", f.amx_tile},
                                                {"amx_bf16", f.amx_bf16},
                                                {"amx_permitted", f.amx_permitted}};
  py::dict d;
  for (const auto& [name, on] : flags) d[name] = on;
  d["bf16_path"] = bf16_path_name(bf16_path());
  return d;
}

// One GEMM operand from NumPy: a 2-D C-contiguous uint16 (bfloat16 bit patterns) or float32 array.
bfgemm::Operand operand(const py::array& arr, bool trans, const char* name, int64_t* rows, int64_t* cols) {
  const bool f32 = py::isinstance<py::array_t<float>>(arr);
  KCORE_CHECK(
      arr.ndim() == 2 && (f32 || py::isinstance<py::array_t<uint16_t>>(arr)),
      "_bf16_gemm: " << name << " must be a 2-D uint16 (bfloat16 bits) or float32 array, got ndim " << arr.ndim());
  KCORE_CHECK(arr.flags() & py::array::c_style, "_bf16_gemm: " << name << " must be C-contiguous");
  *rows = arr.shape(trans ? 1 : 0);
  *cols = arr.shape(trans ? 0 : 1);
  return {arr.data(), int64_t(arr.shape(1)), trans, f32};
}

// Testing and benchmark entry point: op(a) @ op(b) in float32, through the bfloat16 GEMM
// (float32 operands are rounded to bfloat16 while packing); with `onto` the product is added to a copy of it.
py::array_t<float> bf16_gemm(const py::array& a, const py::array& b, bool trans_a, bool trans_b,
                             const py::object& onto) {
  int64_t m, k, kb, n;
  const bfgemm::Operand oa = operand(a, trans_a, "a", &m, &k), ob = operand(b, trans_b, "b", &kb, &n);
  KCORE_CHECK(k == kb, "_bf16_gemm: inner dimensions differ: op(a) is (" << m << ", " << k << "), op(b) is (" << kb
                                                                         << ", " << n << ")");
  py::array_t<float> c({m, n});
  const bool acc = !onto.is_none();
  if (acc) {
    auto src = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(onto);
    KCORE_CHECK(src && src.ndim() == 2 && src.shape(0) == m && src.shape(1) == n,
                "_bf16_gemm: onto must have shape (" << m << ", " << n << ")");
    std::memcpy(c.mutable_data(), src.data(), size_t(m * n) * sizeof(float));
  }
  float* out = c.mutable_data();
  {
    py::gil_scoped_release release;
    DenormalGuard guard;
    bfgemm::gemm(m, n, k, oa, ob, out, n, acc);
  }
  return c;
}

}  // namespace

KCORE_BINDINGS(bf16) {
  m.def("cpu_features", &features_dict,
        "The CPU features the bfloat16 kernels use (detected once at load) and the bfloat16 path they run.");
  m.def("bf16_path", [] { return std::string(bf16_path_name(bf16_path())); });
  m.def("_set_bf16_path", &set_bf16_path, py::arg("name"));
  m.def("_bf16_gemm", &bf16_gemm, py::arg("a"), py::arg("b"), py::arg("trans_a") = false, py::arg("trans_b") = false,
        py::arg("onto") = py::none());
}
