#include "core/tensor.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <type_traits>

#include <new>

#include "core/allocator.h"
#include "core/checked.h"
#include "core/dispatch.h"
#include "core/parallel.h"

namespace kcore {

namespace {
std::string describe(const Shape& shape, DType dtype) {
  return std::string("a ") + dtype_name(dtype) + " tensor of shape " + shape_str(shape);
}
}  // namespace

void throw_out_of_memory(size_t nbytes, const std::string& what) {
  std::ostringstream o;
  o << current_op() << ": cannot allocate " << nbytes << " bytes (" << double(nbytes) / double(1 << 30) << " GiB)"
    << (what.empty() ? "" : " for ") << what;
  throw MemoryError(o.str());
}

int64_t tensor_nbytes(const Shape& shape, DType dtype) {
  for (auto d : shape) KCORE_CHECK(d >= 0, current_op() << ": negative dimension in shape " << shape_str(shape));
  auto what = [&] { return describe(shape, dtype); };
  return checked_mul(checked_product(shape, what), (int64_t)dtype_size(dtype), what);
}

std::shared_ptr<Storage> Storage::allocate(size_t nbytes) {
  auto s = std::make_shared<Storage>();
  size_t reserved = 0;
  try {
    s->data = host_alloc(nbytes, &reserved);
  } catch (const std::bad_alloc&) {
    throw_out_of_memory(nbytes, "");
  }
  s->nbytes = nbytes;
  s->release = [reserved](void* p) { host_free(p, reserved); };
  return s;
}

Shape contiguous_strides(const Shape& shape) {
  Shape st(shape.size());
  int64_t acc = 1;
  for (int64_t i = (int64_t)shape.size() - 1; i >= 0; --i) {
    st[i] = acc;
    if (i > 0) acc = KCORE_CHECKED_MUL(acc, shape[i], "a tensor of shape " << shape_str(shape));
  }
  return st;
}

int64_t shape_numel(const Shape& shape) {
  return checked_product(shape, KCORE_SIZE_WHAT("a tensor of shape " << shape_str(shape)));
}

int64_t normalize_axis(int64_t axis, int64_t ndim, const char* op) {
  int64_t a = axis < 0 ? axis + ndim : axis;
  KCORE_CHECK(a >= 0 && a < ndim, op << ": axis " << axis << " is out of range for a tensor of rank " << ndim);
  return a;
}

Shape normalized_axes(Shape axes, int64_t ndim, const char* op) {
  if (axes.empty())
    for (int64_t d = 0; d < ndim; ++d) axes.push_back(d);
  for (auto& a : axes) a = normalize_axis(a, ndim, op);
  std::sort(axes.begin(), axes.end());
  KCORE_CHECK(std::adjacent_find(axes.begin(), axes.end()) == axes.end(), op << ": repeated axis");
  return axes;
}

Shape reduced_shape(const Shape& shape, const Shape& axes, bool keepdims) {
  Shape out;
  for (int64_t d = 0; d < (int64_t)shape.size(); ++d) {
    const bool reduced = std::binary_search(axes.begin(), axes.end(), d);
    if (!reduced) out.push_back(shape[d]);
    else if (keepdims) out.push_back(1);
  }
  return out;
}

Tensor::Tensor(std::shared_ptr<Storage> storage, Shape shape, DType dtype, int64_t offset)
    : storage_(std::move(storage)), shape_(std::move(shape)), offset_(offset), dtype_(dtype) {
  for (auto d : shape_) KCORE_CHECK(d >= 0, current_op() << ": negative dimension in shape " << shape_str(shape_));
  strides_ = contiguous_strides(shape_);
  numel_ = shape_numel(shape_);
}

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  const int64_t nbytes = tensor_nbytes(shape, dtype);
  if (device != Device::cpu) {
    if (dtype == DType::bf16) throw_bf16_on_cuda(current_op());
    return require_cuda("empty").empty(shape, dtype);
  }
  std::shared_ptr<Storage> storage;
  try {
    storage = Storage::allocate((size_t)nbytes);
  } catch (const MemoryError&) {
    throw_out_of_memory((size_t)nbytes, describe(shape, dtype));
  }
  return Tensor(std::move(storage), shape, dtype);
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) {
  if (device != Device::cpu) return full(shape, dtype, 0.0, device);
  Tensor t = empty(shape, dtype);
  std::memset(t.raw(), 0, t.numel() * dtype_size(dtype));
  return t;
}

Tensor Tensor::full(const Shape& shape, DType dtype, double value, Device device) {
  Tensor t = empty(shape, dtype, device);
  if (device != Device::cpu) {
    require_cuda("full").fill(t, value);
    return t;
  }
  dispatch_cpu(dtype, [&](auto tag) {
    using T = decltype(tag);
    T* p = t.data<T>();
    T v = static_cast<T>(value);
    for (int64_t i = 0; i < t.numel(); ++i) p[i] = v;
  });
  return t;
}

bool Tensor::is_contiguous() const {
  int64_t acc = 1;
  for (int64_t i = ndim() - 1; i >= 0; --i) {
    if (shape_[i] != 1 && strides_[i] != acc) return false;
    acc *= shape_[i];
  }
  return true;
}

Tensor Tensor::contiguous() const { return is_contiguous() ? *this : clone(); }

Tensor Tensor::clone() const {
  Tensor out = empty(shape_, dtype_, device());
  out.copy_from(*this);
  return out;
}

Tensor Tensor::view(const Shape& shape) const {
  KCORE_CHECK(is_contiguous(), "view of a non-contiguous tensor");
  KCORE_CHECK(shape_numel(shape) == numel_, "reshape: cannot reshape a tensor of shape "
                                                << shape_str(shape_) << " (" << numel_ << " elements) into shape "
                                                << shape_str(shape));
  return Tensor(storage_, shape, dtype_, offset_);
}

Tensor Tensor::as_strided(const Shape& shape, const Shape& strides, int64_t offset) const {
  Tensor t = *this;
  t.shape_ = shape;
  t.strides_ = strides;
  t.offset_ = offset;
  t.numel_ = shape_numel(shape);
  return t;
}

Tensor Tensor::astype(DType dtype) const {
  if (device() != Device::cpu) {
    if (dtype == DType::bf16) throw_bf16_on_cuda(current_op());
    return require_cuda("astype").astype(*this, dtype);
  }
  Tensor src = contiguous();
  Tensor out = empty(shape_, dtype);
  dispatch_cpu(dtype_, [&](auto a) {
    using A = decltype(a);
    dispatch_cpu(dtype, [&](auto b) {
      using B = decltype(b);
      const A* s = src.data<A>();
      B* d = out.data<B>();
      parallel_for(numel_, 1 << 16, [&](int64_t lo, int64_t hi) {
        if constexpr (std::is_same_v<A, float> && std::is_same_v<B, bf16>) {
          float_to_bf16(s + lo, d + lo, hi - lo);
        } else if constexpr (std::is_same_v<A, bf16> && std::is_same_v<B, float>) {
          bf16_to_float(s + lo, d + lo, hi - lo);
        } else if constexpr (std::is_same_v<A, bf16> && !std::is_same_v<B, bf16>) {  // exact via float
          for (int64_t i = lo; i < hi; ++i) d[i] = static_cast<B>(static_cast<float>(s[i]));
        } else if constexpr (std::is_same_v<A, bool>) {  // bytes 0 / 1: a select vectorises, a bool conversion does not
          const uint8_t* bytes = reinterpret_cast<const uint8_t*>(s);
          for (int64_t i = lo; i < hi; ++i) d[i] = bytes[i] ? B(1) : B(0);
        } else {
          for (int64_t i = lo; i < hi; ++i) d[i] = static_cast<B>(s[i]);
        }
      });
    });
  });
  return out;
}

// Strided copy: walks the source's index space row by row (last axis innermost).
void Tensor::copy_from(const Tensor& src) {
  check_same_shape(*this, src, "copy");
  KCORE_CHECK(dtype_ == src.dtype_, "copy: dtype mismatch");
  if (numel_ == 0) return;
  if (device() != Device::cpu || src.device() != Device::cpu) {
    require_cuda("copy").copy(*this, src);
    return;
  }
  const size_t es = dtype_size(dtype_);
  if (src.is_contiguous() && is_contiguous()) {
    std::memcpy(raw(), src.raw(), numel_ * es);
    return;
  }
  const int64_t nd = ndim();
  if (nd == 0) {
    std::memcpy(raw(), src.raw(), es);
    return;
  }
  const int64_t inner = shape_[nd - 1];
  const int64_t rows = numel_ / inner;
  const int64_t s_in = src.strides_[nd - 1], d_in = strides_[nd - 1];
  parallel_for(rows, std::max<int64_t>(1, 32768 / std::max<int64_t>(inner, 1)), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      int64_t so = 0, dof = 0, rem = r;
      for (int64_t d = nd - 2; d >= 0; --d) {
        int64_t idx = rem % shape_[d];
        rem /= shape_[d];
        so += idx * src.strides_[d];
        dof += idx * strides_[d];
      }
      const char* s = static_cast<const char*>(src.raw()) + so * es;
      char* dst = static_cast<char*>(raw()) + dof * es;
      if (s_in == 1 && d_in == 1) {
        std::memcpy(dst, s, inner * es);
      } else {
        for (int64_t i = 0; i < inner; ++i) std::memcpy(dst + i * d_in * es, s + i * s_in * es, es);
      }
    }
  });
}

Tensor Tensor::to(Device device) const {
  if (device == this->device()) return *this;
  Tensor out = empty(shape_, dtype_, device);
  out.copy_from(*this);
  return out;
}

void throw_bf16_on_cuda(const char* op) {
  throw TypeError(std::string(op) +
                  ": bfloat16 is CPU-only for now; keep bfloat16 tensors on the CPU (or cast them "
                  "to float32 before moving them to cuda)");
}

void check_float(const Tensor& t, const char* op, const char* name) {
  KCORE_CHECK(t.defined(), op << ": " << name << " is undefined");
  if (!is_floating(t.dtype()))
    throw TypeError(std::string(op) + ": " + name + " must be float32 or float64, got " + dtype_name(t.dtype()));
}

void check_same_dtype(const Tensor& a, const Tensor& b, const char* op) {
  if (a.dtype() != b.dtype())
    throw TypeError(std::string(op) + ": dtype mismatch, " + dtype_name(a.dtype()) + " vs " + dtype_name(b.dtype()));
}

void check_same_shape(const Tensor& a, const Tensor& b, const char* op) {
  KCORE_CHECK(a.shape() == b.shape(),
              op << ": shapes must match, got " << shape_str(a.shape()) << " and " << shape_str(b.shape()));
}

}  // namespace kcore
