// The native tensor: shared storage + shape + strides (in elements) + dtype + device.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "core/dtype.h"
#include "core/errors.h"
#include "core/shape.h"

namespace kcore {

enum class Device : int { cpu = 0, cuda = 1 };

// A block of memory. kcore's own allocations are 64-byte aligned; storage can also
// borrow memory owned by someone else (a NumPy array), kept alive through `release`.
struct Storage {
  void* data = nullptr;
  size_t nbytes = 0;
  Device device = Device::cpu;
  bool readonly = false;  // wraps memory nobody may write (a read-only NumPy array): never an op's output
  std::function<void(void*)> release;

  Storage() = default;
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  ~Storage() {
    if (release) release(data);
  }
  static std::shared_ptr<Storage> allocate(size_t nbytes);
};

class Tensor {
 public:
  Tensor() = default;
  Tensor(std::shared_ptr<Storage> storage, Shape shape, DType dtype, int64_t offset = 0);

  // Non-CPU devices allocate through the registered device table (core/dispatch.h).
  static Tensor empty(const Shape& shape, DType dtype, Device device = Device::cpu);
  static Tensor zeros(const Shape& shape, DType dtype, Device device = Device::cpu);
  static Tensor full(const Shape& shape, DType dtype, double value, Device device = Device::cpu);

  const Shape& shape() const { return shape_; }
  const Shape& strides() const { return strides_; }
  int64_t dim(int64_t i) const { return shape_[i < 0 ? i + ndim() : i]; }
  int64_t ndim() const { return (int64_t)shape_.size(); }
  int64_t numel() const { return numel_; }
  DType dtype() const { return dtype_; }
  Device device() const { return storage_ ? storage_->device : Device::cpu; }
  int64_t offset() const { return offset_; }
  const std::shared_ptr<Storage>& storage() const { return storage_; }
  bool defined() const { return storage_ != nullptr; }

  void* raw() const { return static_cast<char*>(storage_->data) + offset_ * dtype_size(dtype_); }
  template <typename T> T* data() const { return static_cast<T*>(raw()); }

  bool is_contiguous() const;
  Tensor contiguous() const;  // self if already contiguous, else a packed copy
  // *this when already contiguous, else a packed copy kept in `holder`: no Tensor copy (and no shape
  // allocation) on the common path, for the entry points of small, frequent ops.
  const Tensor& contiguous(Tensor& holder) const { return is_contiguous() ? *this : (holder = contiguous()); }
  Tensor clone() const;                   // always a packed copy
  Tensor view(const Shape& shape) const;  // same storage, contiguous only
  Tensor as_strided(const Shape& shape, const Shape& strides, int64_t offset) const;
  Tensor astype(DType dtype) const;
  void copy_from(const Tensor& src);  // same shape; any strides on src; any devices
  Tensor to(Device device) const;     // self when already there, else a packed copy

 private:
  std::shared_ptr<Storage> storage_;
  Shape shape_, strides_;
  int64_t offset_ = 0;
  int64_t numel_ = 0;
  DType dtype_ = DType::f32;
};

// An argument or result that may be absent: an undefined Tensor. Python's None converts to it
// and back (the type caster in python/bindings.h), so ops taking one bind in one line.
class OptionalTensor : public Tensor {
 public:
  OptionalTensor() = default;
  OptionalTensor(const Tensor& t) : Tensor(t) {}  // NOLINT: implicit, a Tensor is a present value
};

// Overflow-checked (core/checked.h): a shape whose size overflows int64 is a ValueError.
Shape contiguous_strides(const Shape& shape);
int64_t shape_numel(const Shape& shape);
// Bytes of a packed tensor of this shape and dtype, checked: negative dims and overflow are ValueErrors.
int64_t tensor_nbytes(const Shape& shape, DType dtype);
// MemoryError "<op>: cannot allocate N bytes (x GiB) for <what>".
[[noreturn]] void throw_out_of_memory(size_t nbytes, const std::string& what);
int64_t normalize_axis(int64_t axis, int64_t ndim, const char* op);
// Sorted, non-negative, distinct axes (empty means every axis).
Shape normalized_axes(Shape axes, int64_t ndim, const char* op);
// The shape left after reducing `axes` (kept as size 1 with keepdims).
Shape reduced_shape(const Shape& shape, const Shape& axes, bool keepdims);

// Checks shared by every entry point: a defined tensor of a floating dtype on the CPU.
void check_float(const Tensor& t, const char* op, const char* name);
// The TypeError for a bfloat16 tensor meeting cuda (bf16 is CPU-only), naming `op`.
[[noreturn]] void throw_bf16_on_cuda(const char* op);
void check_same_dtype(const Tensor& a, const Tensor& b, const char* op);
void check_same_shape(const Tensor& a, const Tensor& b, const char* op);

}  // namespace kcore
