// kcore._C_cuda_emu: the CUDA conv / pooling / recurrent kernels (csrc/cuda/{conv,pool,rnn}.cu,
// compiled as C++ by conv.cpp, pool.cpp, rnn.cpp here) on host memory that calls itself "cuda",
// with the storage plumbing and cuBLAS GEMM done on the host. Every other kernel of the table is the
// CPU kernel run on host aliases of the "cuda" tensors (host_op below), so whole models train on
// the emulated device. Its kernel_table() registers into kcore._C like kcore._C_cuda's, so
// tests/test_cuda_nn.py runs the kernels' index math, masks and host orchestration, and the
// training tests, on a machine without a GPU. Built only with -DKCORE_CUDA_EMULATE=ON
// (tools/cuda_emulate.sh); never installed.
#include <pybind11/pybind11.h>

#include <tuple>
#include <type_traits>

#include "core/blas.h"
#include "cuda/common.cuh"
#include "cuda/gemm.h"
#include "cuda/module_common.h"

namespace py = pybind11;

namespace kcore::cuda {

void check(cudaError_t err, const char* what) {
  KCORE_CHECK(err == cudaSuccess, "emulated CUDA call failed: " << what);
}

Tensor empty(const Shape& shape, DType dtype) {
  const size_t nbytes = (size_t)tensor_nbytes(shape, dtype);
  auto st = std::make_shared<Storage>();
  st->data = nbytes ? ::operator new(nbytes) : nullptr;
  st->nbytes = nbytes;
  st->device = Device::cuda;
  st->release = [](void* q) { ::operator delete(q); };
  Tensor t(st, shape, dtype);
  if (nbytes) std::memset(t.raw(), 0xff, nbytes);  // NaN-filled: a kernel that skips a cell shows
  return t;
}

Tensor zeros(const Shape& shape, DType dtype) {
  Tensor t = empty(shape, dtype);
  if (t.numel()) std::memset(t.raw(), 0, (size_t)tensor_nbytes(shape, dtype));
  return t;
}

void check_on_cuda(const Tensor& t, const char* op, const char* name) {
  KCORE_CHECK(t.defined(), op << ": " << name << " is undefined");
  KCORE_CHECK(t.device() == Device::cuda, op << ": " << name << " must be on cuda");
}

void fill(Tensor& t, double value) {
  dispatch_all(t.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T* p = ptr<T>(t);
    for (int64_t i = 0; i < t.numel(); ++i) p[i] = T(value);
  });
}

// Any strides, either "device" (all of it is host memory).
void copy(Tensor& dst, const Tensor& src) {
  KCORE_CHECK(dst.dtype() == src.dtype() && dst.shape() == src.shape(), "emulated copy: mismatched tensors");
  const IndexMap from = strided_map(src), to = strided_map(dst);
  dispatch_all(dst.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* s = static_cast<const T*>(src.raw());
    T* d = static_cast<T*>(dst.raw());
    for (int64_t i = 0; i < dst.numel(); ++i) d[to(i)] = s[from(i)];
  });
}

namespace {

// The same memory under another device tag (the original storage is kept alive by the alias).
Tensor retag(const Tensor& t, Device device) {
  if (!t.defined()) return t;
  auto keep = t.storage();
  auto st = std::make_shared<Storage>();
  st->data = keep->data;
  st->nbytes = keep->nbytes;
  st->device = device;
  st->release = [keep](void*) {};
  const int64_t elements = (int64_t)(keep->nbytes / dtype_size(t.dtype()));
  return Tensor(st, {elements}, t.dtype()).as_strided(t.shape(), t.strides(), t.offset());
}

template <typename A>
auto to_host(const A& a) {
  if constexpr (std::is_same_v<A, Tensor>) {
    return retag(a, Device::cpu);
  } else if constexpr (std::is_same_v<A, std::vector<Tensor>>) {
    std::vector<Tensor> out;
    for (const Tensor& t : a) out.push_back(retag(t, Device::cpu));
    return out;
  } else {
    return a;
  }
}

template <typename R>
R to_device(R r) {
  if constexpr (std::is_same_v<R, Tensor>) {
    return retag(r, Device::cuda);
  } else if constexpr (std::is_same_v<R, std::pair<Tensor, Tensor>>) {
    return {retag(r.first, Device::cuda), retag(r.second, Device::cuda)};
  } else if constexpr (std::is_same_v<R, std::tuple<Tensor, Tensor, Tensor>>) {
    return {retag(std::get<0>(r), Device::cuda), retag(std::get<1>(r), Device::cuda),
            retag(std::get<2>(r), Device::cuda)};
  } else {
    return r;
  }
}

// The CPU kernel F on host aliases of its tensor arguments (in-place ones included), its tensor
// results re-tagged "cuda".
template <auto F, typename R, typename... A>
R host_call(A... args) {
  auto host = std::make_tuple(to_host(std::decay_t<A>(args))...);
  if constexpr (std::is_void_v<R>) {
    std::apply([](auto&... h) { F(h...); }, host);
  } else {
    return to_device<R>(std::apply([](auto&... h) { return F(h...); }, host));
  }
}

template <auto F, typename R, typename... A>
constexpr auto host_op(R (*)(A...)) {
  return &host_call<F, R, A...>;
}

}  // namespace

Tensor astype(const Tensor& x, DType dtype) { return retag(retag(x, Device::cpu).astype(dtype), Device::cuda); }

template <typename T>
void gemm_rows(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b, int64_t ldb,
               T beta, T* c, int64_t ldc) {
  ::kcore::gemm<T>(ta, tb, m, n, k, T(1), a, lda, b, ldb, beta, c, ldc);
}
template void gemm_rows<float>(bool, bool, int64_t, int64_t, int64_t, const float*, int64_t, const float*, int64_t,
                               float, float*, int64_t);
template void gemm_rows<double>(bool, bool, int64_t, int64_t, int64_t, const double*, int64_t, const double*, int64_t,
                                double, double*, int64_t);

// Every kernel of the table: the emulated CUDA conv / pooling / recurrent ones, the CPU's for the rest.
const KernelTable& emulated_table() {
  static const KernelTable table = [] {
    KernelTable t;
    set_storage_slots(t);
#define KCORE_EMU_HOST_SLOT(ret, name, params) t.name = host_op<&::kcore::cpu::name>(&::kcore::cpu::name);
    KCORE_KERNELS(KCORE_EMU_HOST_SLOT)
#undef KCORE_EMU_HOST_SLOT
#define KCORE_EMU_SLOT(ret, name, params) t.name = &cuda::name;
    // clang-format off
    KCORE_CONV_KERNELS(KCORE_EMU_SLOT)
    KCORE_POOL_KERNELS(KCORE_EMU_SLOT)
    KCORE_RNN_KERNELS(KCORE_EMU_SLOT)
    // clang-format on
#undef KCORE_EMU_SLOT
    return t;
  }();
  return table;
}

}  // namespace kcore::cuda

PYBIND11_MODULE(_C_cuda_emu, m) {
  using namespace kcore;
  m.doc() = "kcore's CUDA conv / pooling / recurrent kernels emulated on the host (tests only)";
  cuda::define_table_module(m, cuda::emulated_table());
}
