// CPU fused losses over the contiguous (rows, classes) operands ops/loss.cpp prepares.
#include "ops/loss.h"

#include <cmath>
#include <limits>

#include "core/parallel.h"

namespace kcore::cpu {

namespace {


// Calls row(i, logits_row, max, log_sum_exp(row - max)) for every row of a (rows, C) logits matrix;
// callers form x - max - lse (not x - (max + lse)) to keep precision for large logits.
template <typename T, typename Row>
void for_each_logit_row(const T* x, int64_t rows, int64_t c, Row&& row) {
  parallel_for(rows, std::max<int64_t>(1, 2048 / std::max<int64_t>(c, 1)), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      const T* xr = x + r * c;
      T mx = -std::numeric_limits<T>::infinity();
      for (int64_t j = 0; j < c; ++j) mx = std::max(mx, xr[j]);
      T s = 0;
      for (int64_t j = 0; j < c; ++j) s += std::exp(xr[j] - mx);
      row(r, xr, mx, std::log(s));
    }
  });
}
}  // namespace

void softmax_cross_entropy(const Tensor& x, const Tensor& y, int64_t rows, int64_t c, Tensor& out) {
  dispatch_float(x.dtype(), "categorical_crossentropy", [&](auto tag) {
    using T = decltype(tag);
    const T* yp = y.data<T>();
    T* o = out.data<T>();
    for_each_logit_row<T>(x.data<T>(), rows, c, [&](int64_t r, const T* xr, T mx, T lse) {
      T loss = 0;
      for (int64_t j = 0; j < c; ++j) loss += yp[r * c + j] * (lse - (xr[j] - mx));
      o[r] = loss;
    });
  });
}

void softmax_cross_entropy_backward(const Tensor& x, const Tensor& y, const Tensor& g, int64_t rows, int64_t c,
                                    Tensor& out) {
  dispatch_float(x.dtype(), "categorical_crossentropy", [&](auto tag) {
    using T = decltype(tag);
    const T* yp = y.data<T>();
    const T* gp = g.data<T>();
    T* o = out.data<T>();
    for_each_logit_row<T>(x.data<T>(), rows, c, [&](int64_t r, const T* xr, T mx, T lse) {
      T ysum = 0;
      for (int64_t j = 0; j < c; ++j) ysum += yp[r * c + j];
      for (int64_t j = 0; j < c; ++j) o[r * c + j] = gp[r] * (std::exp(xr[j] - mx - lse) * ysum - yp[r * c + j]);
    });
  });
}

namespace {
template <typename I>
void check_labels(const I* lp, int64_t n, int64_t c) {
  for (int64_t i = 0; i < n; ++i)
    KCORE_CHECK(lp[i] >= 0 && lp[i] < c, "sparse_categorical_crossentropy: label "
                                             << (int64_t)lp[i] << " is out of range for " << c << " classes");
}

// fn(T{}, labels) with the logits' float type and the labels' index type, once every label is checked.
template <typename Fn>
void with_labels(const Tensor& x, const Tensor& l, int64_t rows, int64_t c, Fn&& fn) {
  dispatch_float(x.dtype(), "sparse_categorical_crossentropy", [&](auto tag) {
    dispatch_index(l.dtype(), "sparse_categorical_crossentropy", [&](auto itag) {
      using I = decltype(itag);
      const I* lp = l.data<I>();
      check_labels(lp, rows, c);
      fn(tag, lp);
    });
  });
}

}  // namespace

void sparse_softmax_cross_entropy(const Tensor& x, const Tensor& l, int64_t rows, int64_t c, Tensor& out) {
  with_labels(x, l, rows, c, [&](auto tag, const auto* lp) {
    using T = decltype(tag);
    T* o = out.data<T>();
    for_each_logit_row<T>(x.data<T>(), rows, c,
                          [&](int64_t r, const T* xr, T mx, T lse) { o[r] = lse - (xr[lp[r]] - mx); });
  });
}

void sparse_softmax_cross_entropy_backward(const Tensor& x, const Tensor& l, const Tensor& g, int64_t rows, int64_t c,
                                           Tensor& out) {
  with_labels(x, l, rows, c, [&](auto tag, const auto* lp) {
    using T = decltype(tag);
    const T* gp = g.data<T>();
    T* o = out.data<T>();
    for_each_logit_row<T>(x.data<T>(), rows, c, [&](int64_t r, const T* xr, T mx, T lse) {
      for (int64_t j = 0; j < c; ++j) o[r * c + j] = gp[r] * std::exp(xr[j] - mx - lse);
      o[r * c + lp[r]] -= gp[r];
    });
  });
}

void sigmoid_cross_entropy(const Tensor& x, const Tensor& y, Tensor& out) {
  dispatch_float(x.dtype(), "binary_crossentropy", [&](auto tag) {
    using T = decltype(tag);
    const T* xp = x.data<T>();
    const T* yp = y.data<T>();
    T* o = out.data<T>();
    parallel_for(x.numel(), 1 << 14, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i)
        o[i] = std::max(xp[i], T(0)) - xp[i] * yp[i] + std::log1p(std::exp(-std::abs(xp[i])));
    });
  });
}

void sigmoid_cross_entropy_backward(const Tensor& x, const Tensor& y, const Tensor& g, Tensor& out) {
  dispatch_float(x.dtype(), "binary_crossentropy", [&](auto tag) {
    using T = decltype(tag);
    const T* xp = x.data<T>();
    const T* yp = y.data<T>();
    const T* gp = g.data<T>();
    T* o = out.data<T>();
    parallel_for(x.numel(), 1 << 14, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) {
        T s = xp[i] >= T(0) ? T(1) / (T(1) + std::exp(-xp[i])) : std::exp(xp[i]) / (T(1) + std::exp(xp[i]));
        o[i] = gp[i] * (s - yp[i]);
      }
    });
  });
}

void mean_error(ErrorKind kind, const Tensor& p, const Tensor& y, int64_t rows, int64_t c, Tensor& out) {
  dispatch_float(p.dtype(), "mean_error", [&](auto tag) {
    using T = decltype(tag);
    const T* pp = p.data<T>();
    const T* yp = y.data<T>();
    T* o = out.data<T>();
    parallel_for(rows, std::max<int64_t>(1, 4096 / std::max<int64_t>(c, 1)), [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) {
        T acc = 0;
        for (int64_t j = 0; j < c; ++j) {
          T d = pp[r * c + j] - yp[r * c + j];
          acc += kind == ErrorKind::squared ? d * d : std::abs(d);
        }
        o[r] = acc / T(c);
      }
    });
  });
}

void mean_error_backward(ErrorKind kind, const Tensor& p, const Tensor& y, const Tensor& g, int64_t rows, int64_t c,
                         Tensor& out) {
  dispatch_float(p.dtype(), "mean_error backward", [&](auto tag) {
    using T = decltype(tag);
    const T* pp = p.data<T>();
    const T* yp = y.data<T>();
    const T* gp = g.data<T>();
    T* o = out.data<T>();
    parallel_for(rows, std::max<int64_t>(1, 4096 / std::max<int64_t>(c, 1)), [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) {
        const T s = gp[r] / T(c);
        for (int64_t j = 0; j < c; ++j) {
          T d = pp[r * c + j] - yp[r * c + j];
          o[r * c + j] = kind == ErrorKind::squared ? T(2) * d * s : (d > T(0) ? s : (d < T(0) ? -s : T(0)));
        }
      }
    });
  });
}

}  // namespace kcore::cpu
