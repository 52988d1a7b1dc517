#include <omp.h>

#include <new>
#include <stdexcept>
#include <string>

#include "core/blas.h"
#include "core/checked.h"
#include "python/bindings.h"

namespace kcore::python {

void add_argument_fallbacks(py::module_& m);  // python/fallback.cpp

std::vector<Binder>& binders() {
  static std::vector<Binder> all;
  return all;
}

}  // namespace kcore::python

namespace py = pybind11;

#ifndef KCORE_ARCH
#define KCORE_ARCH "unknown"
#endif

#ifndef KCORE_MODULE_NAME
#define KCORE_MODULE_NAME _C
#endif

PYBIND11_MODULE(KCORE_MODULE_NAME, m) {
  m.doc() = "kcore native CPU engine";
  py::register_exception<kcore::TypeError>(m, "NativeTypeError", PyExc_TypeError);
  py::register_exception<kcore::NotImplementedError>(m, "NativeNotImplementedError", PyExc_NotImplementedError);
  py::register_exception<kcore::MemoryError>(m, "NativeMemoryError", PyExc_MemoryError);
  // A failed std:: allocation inside an op is a MemoryError naming the op (core/checked.h's failed_op),
  // not pybind11's bare "std::bad_alloc".
  py::register_local_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const std::bad_alloc&) {
      PyErr_SetString(PyExc_MemoryError, (std::string(kcore::failed_op()) + ": out of memory").c_str());
    } catch (const std::length_error& e) {
      PyErr_SetString(PyExc_MemoryError,
                      (std::string(kcore::failed_op()) + ": a buffer size is too large (" + e.what() + ")").c_str());
    }
  });
  for (auto b : kcore::python::binders()) b(m);
  m.def("set_num_threads", &kcore::set_num_threads, py::arg("n"));
  m.def("get_num_threads", &kcore::num_threads);
  m.def("build_info", [] {
    py::dict d;
    d["blas"] = kcore::blas_name();
    d["openmp"] = _OPENMP;
    d["arch"] = KCORE_ARCH;
    d["max_threads"] = omp_get_num_procs();
#if defined(__AVX512F__)
    d["simd"] = "avx512";
#elif defined(__AVX2__)
    d["simd"] = "avx2";
#else
    d["simd"] = "sse2";
#endif
    return d;
  });
  kcore::python::add_argument_fallbacks(m);  // last: every function above gets its readable rejection
  kcore::num_threads();                      // initialise threads (and denormal flushing on the OpenMP team)
}
