// kcore._C_cuda: hands the CUDA kernel table to the engine (kcore._C) through a capsule,
// and reports on the device (availability, memory, settings).
#include <cuda_runtime.h>
#include <pybind11/pybind11.h>

#include <string>

#include "cuda/device.h"
#include "cuda/module_common.h"
#include "cuda/nccl.h"
#include "cuda/table.h"

namespace py = pybind11;

#ifndef KCORE_CUDA_ARCHS
#define KCORE_CUDA_ARCHS "unknown"
#endif

namespace kcore::cuda {

// The op families with CUDA kernels (each list from its ops/<family>.h); the others' slots stay
// null and raise NotImplementedError naming the kernel.
// clang-format off
#define KCORE_CUDA_KERNELS(X)                                                                              \
  KCORE_ELEMENTWISE_KERNELS(X) KCORE_REDUCE_KERNELS(X) KCORE_LINALG_KERNELS(X) KCORE_LOSS_KERNELS(X)       \
  KCORE_NORM_KERNELS(X) KCORE_OPTIM_KERNELS(X) KCORE_RANDOM_KERNELS(X) KCORE_SHAPE_KERNELS(X)          \
  KCORE_CONV_KERNELS(X) KCORE_POOL_KERNELS(X) KCORE_RNN_KERNELS(X)
// clang-format on

const KernelTable& kernel_table() {
  static const KernelTable table = [] {
    KernelTable t;
    set_storage_slots(t);
#define KCORE_CUDA_SLOT(ret, name, params) t.name = &cuda::name;
    KCORE_CUDA_KERNELS(KCORE_CUDA_SLOT)
#undef KCORE_CUDA_SLOT
    return t;
  }();
  return table;
}

namespace {

// (usable, reason): why CUDA cannot be used here, in words, or "" when it can.
py::tuple availability() {
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    cudaGetLastError();
    std::string why = err == cudaErrorNoDevice             ? "no CUDA GPU was found"
                      : err == cudaErrorInsufficientDriver ? "the NVIDIA driver is missing or too old for this build"
                                                           : "the CUDA runtime could not start";
    return py::make_tuple(false, why + " (" + cudaGetErrorName(err) + ": " + cudaGetErrorString(err) + ")");
  }
  if (count == 0) return py::make_tuple(false, "no CUDA GPU was found");
  return py::make_tuple(true, "");
}

int device_count() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return count;
}

py::dict device_properties(int device) {
  cudaDeviceProp p;
  KC_CUDA(cudaGetDeviceProperties(&p, device));
  py::dict d;
  d["name"] = std::string(p.name);
  d["compute_capability"] = py::make_tuple(p.major, p.minor);
  d["total_memory"] = (size_t)p.totalGlobalMem;
  d["multiprocessors"] = p.multiProcessorCount;
  d["l2_cache_bytes"] = p.l2CacheSize;
  d["shared_memory_per_block_optin"] = (size_t)p.sharedMemPerBlockOptin;
  return d;
}

py::dict stats_dict() {
  MemoryStats s = memory_stats();
  py::dict d;
  d["allocated_bytes"] = s.allocated;
  d["peak_allocated_bytes"] = s.peak_allocated;
  d["reserved_bytes"] = s.reserved;
  d["peak_reserved_bytes"] = s.peak_reserved;
  d["num_allocs"] = s.num_allocs;
  d["num_cuda_mallocs"] = s.num_cuda_mallocs;
  return d;
}

// Names of the engine's device-routed ops that have no CUDA kernel (raise NotImplementedError).
py::list missing_ops() {
  py::list out;
  const KernelTable& t = kernel_table();
#define KCORE_CUDA_MISSING(ret, name, params) \
  if (!t.name) out.append(#name);
  KCORE_KERNELS(KCORE_CUDA_MISSING)
#undef KCORE_CUDA_MISSING
  return out;
}

py::dict versions() {
  int runtime = 0, driver = 0;
  cudaRuntimeGetVersion(&runtime);
  cudaDriverGetVersion(&driver);
  cudaGetLastError();
  py::dict d;
  d["runtime"] = runtime;
  d["driver"] = driver;
  d["built_for"] = KCORE_CUDA_ARCHS;
  return d;
}

}  // namespace
}  // namespace kcore::cuda

PYBIND11_MODULE(_C_cuda, m) {
  using namespace kcore;
  m.doc() = "kcore CUDA kernels (registered into kcore._C through kernel_table())";
  cuda::define_table_module(m, cuda::kernel_table());  // exceptions, kernel_table, conv workspace
  m.def("availability", &cuda::availability);
  m.def("missing_ops", &cuda::missing_ops);
  m.def("device_count", &cuda::device_count);
  m.def("device_properties", &cuda::device_properties, py::arg("device") = 0);
  m.def("versions", &cuda::versions);
  m.def("memory_stats", &cuda::stats_dict);
  m.def("reset_peak_memory_stats", &cuda::reset_peak_stats);
  m.def("empty_cache", &cuda::empty_cache);
  m.def("synchronize", [] { KC_CUDA(cudaDeviceSynchronize()); });
  m.def("set_allow_tf32", &cuda::set_allow_tf32, py::arg("allow"));
  m.def("allow_tf32", &cuda::allow_tf32);
  // NCCL (kcore.distribution): libnccl is dlopen()ed by nccl_load; communicators are opaque integers.
  m.def("nccl_load", &cuda::nccl::load, py::arg("path") = "");
  m.def("nccl_loaded", &cuda::nccl::loaded);
  m.def("nccl_version", &cuda::nccl::version);
  m.def("nccl_unique_id", [] { return py::bytes(cuda::nccl::unique_id()); });
  m.def(
      "nccl_comm_init",
      [](py::bytes id, int nranks, int rank) {
        std::string raw = id;
        py::gil_scoped_release release;  // waits for every rank
        return cuda::nccl::comm_init(raw, nranks, rank);
      },
      py::arg("unique_id"), py::arg("nranks"), py::arg("rank"));
  m.def("nccl_comm_destroy", &cuda::nccl::comm_destroy, py::arg("comm"));
  m.def("nccl_allreduce", &cuda::nccl::allreduce, py::arg("comm"), py::arg("ptr"), py::arg("count"), py::arg("dtype"),
        py::arg("op") = "sum");
  m.def("nccl_broadcast", &cuda::nccl::broadcast, py::arg("comm"), py::arg("ptr"), py::arg("count"), py::arg("dtype"),
        py::arg("root") = 0);
  m.def("nccl_group_start", &cuda::nccl::group_start);
  m.def("nccl_group_end", &cuda::nccl::group_end);
}
