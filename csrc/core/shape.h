// Shape: the dims (or strides, or axes) of a tensor, a small vector of int64_t that keeps up to
// kInline values inside the object and moves to the heap only beyond that. Tensors of any rank
// work; the common ranks (<= kInline) never allocate, so copying, viewing or creating a Tensor
// (which holds a shape and its strides) costs no heap allocation.
//
// It offers the part of std::vector<int64_t>'s interface the engine uses, with the same meaning,
// and converts implicitly from a std::vector<int64_t> (at boundaries that still hold one).
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <iterator>
#include <stdexcept>
#include <type_traits>
#include <vector>

namespace kcore {

class Shape {
 public:
  using value_type = int64_t;
  using size_type = size_t;
  using difference_type = std::ptrdiff_t;
  using reference = int64_t&;
  using const_reference = const int64_t&;
  using pointer = int64_t*;
  using const_pointer = const int64_t*;
  using iterator = int64_t*;
  using const_iterator = const int64_t*;
  using reverse_iterator = std::reverse_iterator<iterator>;
  using const_reverse_iterator = std::reverse_iterator<const_iterator>;

  // Values held without a heap allocation: a Conv3D input has rank 5; larger ranks spill to the heap.
  static constexpr size_t kInline = 6;

  Shape() noexcept {}
  // n copies of `value`.
  explicit Shape(size_t n, int64_t value = 0) { assign(n, value); }
  Shape(std::initializer_list<int64_t> values) { assign(values.begin(), values.end()); }
  // The values of a forward-iterator range (pointers, vector or Shape iterators).
  template <typename It, typename = std::enable_if_t<!std::is_integral_v<It>>> Shape(It first, It last) {
    assign(first, last);
  }
  Shape(const std::vector<int64_t>& values) { assign(values.begin(), values.end()); }  // NOLINT: implicit
  Shape(const Shape& other) {
    if (other.size_ <= kInline) {
      copy_inline(other);
    } else {
      assign(other.begin(), other.end());
    }
  }
  Shape(Shape&& other) noexcept { take(other); }
  Shape& operator=(const Shape& other) {
    if (this == &other) return *this;
    if (!on_heap() && other.size_ <= kInline) {
      copy_inline(other);
    } else {
      assign(other.begin(), other.end());
    }
    return *this;
  }
  Shape& operator=(Shape&& other) noexcept {
    if (this != &other) {
      free_heap();
      take(other);
    }
    return *this;
  }
  Shape& operator=(std::initializer_list<int64_t> values) {
    assign(values.begin(), values.end());
    return *this;
  }
  ~Shape() { free_heap(); }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t capacity() const { return cap_; }
  int64_t* data() { return data_; }
  const int64_t* data() const { return data_; }

  iterator begin() { return data_; }
  iterator end() { return data_ + size_; }
  const_iterator begin() const { return data_; }
  const_iterator end() const { return data_ + size_; }
  const_iterator cbegin() const { return data_; }
  const_iterator cend() const { return data_ + size_; }
  reverse_iterator rbegin() { return reverse_iterator(end()); }
  reverse_iterator rend() { return reverse_iterator(begin()); }
  const_reverse_iterator rbegin() const { return const_reverse_iterator(end()); }
  const_reverse_iterator rend() const { return const_reverse_iterator(begin()); }

  int64_t& operator[](size_t i) { return data_[i]; }
  const int64_t& operator[](size_t i) const { return data_[i]; }
  // Bounds-checked access: std::out_of_range past the end, as std::vector::at.
  int64_t& at(size_t i) { return data_[checked(i)]; }
  const int64_t& at(size_t i) const { return data_[checked(i)]; }
  int64_t& front() { return data_[0]; }
  const int64_t& front() const { return data_[0]; }
  int64_t& back() { return data_[size_ - 1]; }
  const int64_t& back() const { return data_[size_ - 1]; }

  void reserve(size_t n) {
    if (n > cap_) grow(n);
  }
  void clear() { size_ = 0; }
  void push_back(int64_t v) {
    if (size_ == cap_) grow(2 * cap_);
    data_[size_++] = v;
  }
  void emplace_back(int64_t v) { push_back(v); }
  void pop_back() { --size_; }
  // Grows with `value` (0 by default) or drops values from the end.
  void resize(size_t n, int64_t value = 0) {
    reserve(n);
    for (size_t i = size_; i < n; ++i) data_[i] = value;
    size_ = static_cast<uint32_t>(n);
  }
  void assign(size_t n, int64_t value) {
    size_ = 0;
    resize(n, value);
  }
  template <typename It, typename = std::enable_if_t<!std::is_integral_v<It>>> void assign(It first, It last) {
    const size_t n = static_cast<size_t>(std::distance(first, last));
    if (n > cap_) {  // a range longer than the capacity cannot lie inside this shape
      size_ = 0;
      grow(n);
    }
    int64_t* out = data_;
    for (; first != last; ++first) *out++ = static_cast<int64_t>(*first);  // forward copy: safe for a sub-range
    size_ = static_cast<uint32_t>(n);
  }
  void assign(std::initializer_list<int64_t> values) { assign(values.begin(), values.end()); }

  // Inserts before `pos`; returns an iterator to the first inserted value, as std::vector does.
  iterator insert(const_iterator pos, int64_t value) { return insert(pos, size_t(1), value); }
  iterator insert(const_iterator pos, size_t n, int64_t value) {
    const size_t at = open_gap(pos, n);
    std::fill(data_ + at, data_ + at + n, value);
    return data_ + at;
  }
  template <typename It, typename = std::enable_if_t<!std::is_integral_v<It>>>
  iterator insert(const_iterator pos, It first, It last) {
    const Shape values(first, last);  // a copy: the range may lie inside this shape
    const size_t at = open_gap(pos, values.size());
    std::copy(values.begin(), values.end(), data_ + at);
    return data_ + at;
  }
  iterator insert(const_iterator pos, std::initializer_list<int64_t> values) {
    return insert(pos, values.begin(), values.end());
  }
  // Removes [first, last) (or the one value at pos); returns an iterator to the value after them.
  iterator erase(const_iterator first, const_iterator last) {
    const size_t at = static_cast<size_t>(first - data_), n = static_cast<size_t>(last - first);
    std::copy(data_ + at + n, data_ + size_, data_ + at);
    size_ -= static_cast<uint32_t>(n);
    return data_ + at;
  }
  iterator erase(const_iterator pos) { return erase(pos, pos + 1); }

  void swap(Shape& other) noexcept {
    Shape tmp(std::move(other));
    other = std::move(*this);
    *this = std::move(tmp);
  }

  friend bool operator==(const Shape& a, const Shape& b) {
    return a.size_ == b.size_ && std::equal(a.begin(), a.end(), b.begin());
  }
  friend bool operator!=(const Shape& a, const Shape& b) { return !(a == b); }
  friend bool operator<(const Shape& a, const Shape& b) {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
  }

 private:
  bool on_heap() const { return data_ != inline_; }
  void free_heap() {
    if (on_heap()) delete[] data_;
  }
  // Moves the values to a heap buffer of at least n (and at least twice kInline) values.
  void grow(size_t n) {
    const size_t want = std::max(n, 2 * kInline);
    if (want > UINT32_MAX) throw std::length_error("kcore::Shape: too many dimensions");
    int64_t* heap = new int64_t[want]();  // zeroed: copy_inline may read past size_
    std::copy(begin(), end(), heap);
    free_heap();
    data_ = heap;
    cap_ = static_cast<uint32_t>(want);
  }
  // Steals other's heap buffer, or copies its inline values; leaves other empty and inline.
  void take(Shape& other) noexcept {
    if (other.on_heap()) {
      data_ = other.data_;
      cap_ = other.cap_;
    } else {
      data_ = inline_;
      cap_ = kInline;
      std::memcpy(inline_, other.inline_, sizeof inline_);
    }
    size_ = other.size_;
    other.data_ = other.inline_;
    other.cap_ = kInline;
    other.size_ = 0;
  }
  // Shifts the values from pos on by n places to the right; returns pos as an index.
  size_t open_gap(const_iterator pos, size_t n) {
    const size_t at = static_cast<size_t>(pos - data_);
    reserve(size_ + n);
    std::copy_backward(data_ + at, data_ + size_, data_ + size_ + n);
    size_ += static_cast<uint32_t>(n);
    return at;
  }
  // Copies a shape of at most kInline values into the (inline) storage of this one: always the
  // whole inline block, a fixed-size copy the compiler turns into a few moves. Every value read is
  // initialized (inline_ starts zeroed and heap buffers are allocated zeroed).
  void copy_inline(const Shape& other) {
    std::memcpy(inline_, other.data_, sizeof inline_);
    size_ = other.size_;
  }
  size_t checked(size_t i) const {
    if (i >= size_) throw std::out_of_range("kcore::Shape::at: index out of range");
    return i;
  }

  int64_t* data_ = inline_;
  uint32_t size_ = 0;
  uint32_t cap_ = kInline;
  int64_t inline_[kInline] = {};
};

}  // namespace kcore
