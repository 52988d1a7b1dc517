// CPU reductions and softmax over the layouts ops/reduce.cpp prepares: rows of reduced values;
// sums accumulate in double and run in a fixed order (deterministic). bf16 values compute in float
// (C = acc_t<T>) and round once when stored.
#include "ops/reduce.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "core/parallel.h"

namespace kcore::cpu {

namespace {
template <typename T> void reduce_rows(ReduceOp op, const T* x, T* out, int64_t rows, int64_t n) {
  parallel_for(rows, std::max<int64_t>(1, 16384 / std::max<int64_t>(n, 1)), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      const T* p = x + r * n;
      if (op == ReduceOp::sum || op == ReduceOp::mean) {
        double acc = 0;
        for (int64_t i = 0; i < n; ++i) acc += p[i];
        out[r] = T(op == ReduceOp::mean ? acc / double(n) : acc);
      } else {
        acc_t<T> best = p[0];
        bool is_max = op == ReduceOp::max;
        for (int64_t i = 1; i < n; ++i) {
          acc_t<T> v = p[i];
          if (std::isnan(v) || (is_max ? v > best : v < best)) best = v;
          if (std::isnan(best)) break;
        }
        out[r] = T(best);
      }
    }
  });
}

}  // namespace

void reduce(ReduceOp op, const Tensor& x, int64_t outer, int64_t red, Tensor& out) {
  dispatch_float_cpu(x.dtype(), reduce_name(op), [&](auto tag) {
    using T = decltype(tag);
    reduce_rows<T>(op, x.data<T>(), out.data<T>(), outer, red);
  });
}

void extremum_hits(const Tensor& x, const Tensor& y, Tensor& hits) {
  dispatch_float_cpu(x.dtype(), "extremum_hits", [&](auto tag) {
    using T = decltype(tag);
    const T* xp = x.data<T>();
    const T* yp = y.data<T>();
    T* h = hits.data<T>();
    for (int64_t i = 0; i < x.numel(); ++i)
      h[i] = (acc_t<T>(xp[i]) == acc_t<T>(yp[i]) || (std::isnan(acc_t<T>(xp[i])) && std::isnan(acc_t<T>(yp[i]))))
                 ? T(1)
                 : T(0);
  });
}

void argmax(const Tensor& x, int64_t outer, int64_t red, Tensor& out) {
  int64_t* o = out.data<int64_t>();
  dispatch_float_cpu(x.dtype(), "argmax", [&](auto tag) {
    using T = decltype(tag);
    const T* p = x.data<T>();
    parallel_for(outer, 256, [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) {
        const T* q = p + r * red;
        int64_t best = 0;
        for (int64_t i = 1; i < red; ++i) {
          const acc_t<T> v = q[i], b = q[best];
          if (v > b || (std::isnan(v) && !std::isnan(b))) best = i;
        }
        o[r] = best;
      }
    });
  });
}

void softmax(const Tensor& x, int64_t outer, int64_t n, int64_t inner, bool log, Tensor& out) {
  dispatch_float_cpu(x.dtype(), "softmax", [&](auto tag) {
    using T = decltype(tag);
    using C = acc_t<T>;
    const T* xp = x.data<T>();
    T* o = out.data<T>();
    parallel_for(outer * inner, std::max<int64_t>(1, 4096 / std::max<int64_t>(n, 1)), [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) {
        const int64_t base = (r / inner) * n * inner + (r % inner);
        C mx = -std::numeric_limits<C>::infinity();
        // NaN-propagating max, not clamped: a row holding NaN or +inf, or only -inf, comes out all NaN
        // (NumPy's and TensorFlow's answer); finite rows give exact zeros at their -inf entries.
        for (int64_t i = 0; i < n; ++i) {
          const C v = xp[base + i * inner];
          if (v > mx || v != v) mx = v;
        }
        C sum = 0;
        for (int64_t i = 0; i < n; ++i) {
          C e = std::exp(C(xp[base + i * inner]) - mx);
          if constexpr (std::is_same_v<T, C>) o[base + i * inner] = e;  // bf16: recomputed below, rounded once
          sum += e;
        }
        if (log) {
          C ls = std::log(sum);
          for (int64_t i = 0; i < n; ++i) o[base + i * inner] = T((C(xp[base + i * inner]) - mx) - ls);
        } else if constexpr (std::is_same_v<T, C>) {
          C inv = C(1) / sum;
          for (int64_t i = 0; i < n; ++i) o[base + i * inner] *= inv;
        } else {
          C inv = C(1) / sum;
          for (int64_t i = 0; i < n; ++i) o[base + i * inner] = T(std::exp(C(xp[base + i * inner]) - mx) * inv);
        }
      }
    });
  });
}

void softmax_backward(const Tensor& y, const Tensor& g, int64_t outer, int64_t n, int64_t inner, bool log,
                      Tensor& out) {
  dispatch_float_cpu(y.dtype(), "softmax backward", [&](auto tag) {
    using T = decltype(tag);
    using C = acc_t<T>;
    const T* yp = y.data<T>();
    const T* gp = g.data<T>();
    T* o = out.data<T>();
    parallel_for(outer * inner, std::max<int64_t>(1, 4096 / std::max<int64_t>(n, 1)), [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) {
        const int64_t base = (r / inner) * n * inner + (r % inner);
        C dot = 0;
        if (log) {
          for (int64_t i = 0; i < n; ++i) dot += gp[base + i * inner];
          for (int64_t i = 0; i < n; ++i)
            o[base + i * inner] = T(C(gp[base + i * inner]) - std::exp(C(yp[base + i * inner])) * dot);
        } else {
          for (int64_t i = 0; i < n; ++i) dot += C(gp[base + i * inner]) * C(yp[base + i * inner]);
          for (int64_t i = 0; i < n; ++i)
            o[base + i * inner] = T(C(yp[base + i * inner]) * (C(gp[base + i * inner]) - dot));
        }
      }
    });
  });
}

}  // namespace kcore::cpu
