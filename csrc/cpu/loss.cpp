#include "ops/loss.h"

#include <cmath>
#include <limits>

#include "core/parallel.h"
#include "ops/arguments.h"

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

Tensor softmax_cross_entropy(const Tensor& logits_in, const Tensor& targets_in) {
  arguments::loss_pair(logits_in, targets_in, "categorical_crossentropy");
  Tensor x = logits_in.contiguous(), y = targets_in.contiguous();
  const int64_t c = x.dim(-1), rows = arguments::as_rows(x.shape())[0];
  Tensor out = Tensor::empty(arguments::without_last(x.shape()), x.dtype());
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
  return out;
}

Tensor softmax_cross_entropy_backward(const Tensor& logits_in, const Tensor& targets_in, const Tensor& grad_in) {
  arguments::loss_pair(logits_in, targets_in, "categorical_crossentropy backward");
  Tensor x = logits_in.contiguous(), y = targets_in.contiguous(), g = grad_in.contiguous();
  const int64_t c = x.dim(-1), rows = arguments::as_rows(x.shape())[0];
  KCORE_CHECK(g.numel() == rows, "categorical_crossentropy backward: gradient has the wrong size");
  Tensor out = Tensor::empty(x.shape(), x.dtype());
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
  return out;
}

namespace {
template <typename I>
void check_labels(const I* lp, int64_t n, int64_t c) {
  for (int64_t i = 0; i < n; ++i)
    KCORE_CHECK(lp[i] >= 0 && lp[i] < c, "sparse_categorical_crossentropy: label " << (int64_t)lp[i]
                                             << " is out of range for " << c << " classes");
}

}  // namespace

Tensor sparse_softmax_cross_entropy(const Tensor& logits_in, const Tensor& labels_in) {
  arguments::sparse_labels(logits_in, labels_in);
  Tensor x = logits_in.contiguous(), l = labels_in.contiguous();
  const int64_t c = x.dim(-1), rows = l.numel();
  Tensor out = Tensor::empty(l.shape(), x.dtype());
  dispatch_float(x.dtype(), "sparse_categorical_crossentropy", [&](auto tag) {
    using T = decltype(tag);
    dispatch_index(l.dtype(), "sparse_categorical_crossentropy", [&](auto itag) {
      using I = decltype(itag);
      const I* lp = l.data<I>();
      check_labels(lp, rows, c);
      T* o = out.data<T>();
      for_each_logit_row<T>(x.data<T>(), rows, c, [&](int64_t r, const T* xr, T mx, T lse) { o[r] = lse - (xr[lp[r]] - mx); });
    });
  });
  return out;
}

Tensor sparse_softmax_cross_entropy_backward(const Tensor& logits_in, const Tensor& labels_in, const Tensor& grad_in) {
  arguments::sparse_labels(logits_in, labels_in);
  KCORE_CHECK(grad_in.shape() == labels_in.shape(), "sparse_categorical_crossentropy backward: gradient of shape "
                                                        << shape_str(grad_in.shape()) << " does not match labels of shape "
                                                        << shape_str(labels_in.shape()));
  Tensor x = logits_in.contiguous(), l = labels_in.contiguous(), g = grad_in.contiguous();
  const int64_t c = x.dim(-1), rows = l.numel();
  Tensor out = Tensor::empty(x.shape(), x.dtype());
  dispatch_float(x.dtype(), "sparse_categorical_crossentropy", [&](auto tag) {
    using T = decltype(tag);
    dispatch_index(l.dtype(), "sparse_categorical_crossentropy", [&](auto itag) {
      using I = decltype(itag);
      const I* lp = l.data<I>();
      check_labels(lp, rows, c);
      const T* gp = g.data<T>();
      T* o = out.data<T>();
      for_each_logit_row<T>(x.data<T>(), rows, c, [&](int64_t r, const T* xr, T mx, T lse) {
        for (int64_t j = 0; j < c; ++j) o[r * c + j] = gp[r] * std::exp(xr[j] - mx - lse);
        o[r * c + lp[r]] -= gp[r];
      });
    });
  });
  return out;
}

Tensor sigmoid_cross_entropy(const Tensor& logits_in, const Tensor& targets_in) {
  arguments::loss_pair(logits_in, targets_in, "binary_crossentropy");
  Tensor x = logits_in.contiguous(), y = targets_in.contiguous();
  Tensor out = Tensor::empty(x.shape(), x.dtype());
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
  return out;
}

Tensor sigmoid_cross_entropy_backward(const Tensor& logits_in, const Tensor& targets_in, const Tensor& grad_in) {
  arguments::loss_pair(logits_in, targets_in, "binary_crossentropy");
  Tensor x = logits_in.contiguous(), y = targets_in.contiguous(), g = grad_in.contiguous();
  check_same_shape(x, g, "binary_crossentropy backward");
  Tensor out = Tensor::empty(x.shape(), x.dtype());
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
  return out;
}

Tensor mean_error(ErrorKind kind, const Tensor& p_in, const Tensor& y_in) {
  const char* name = kind == ErrorKind::squared ? "mean_squared_error" : "mean_absolute_error";
  arguments::loss_pair(p_in, y_in, name);
  Tensor p = p_in.contiguous(), y = y_in.contiguous();
  const int64_t c = p.dim(-1), rows = arguments::as_rows(p.shape())[0];
  Tensor out = Tensor::empty(arguments::without_last(p.shape()), p.dtype());
  dispatch_float(p.dtype(), name, [&](auto tag) {
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
  return out;
}

Tensor mean_error_backward(ErrorKind kind, const Tensor& p_in, const Tensor& y_in, const Tensor& g_in) {
  const char* name = kind == ErrorKind::squared ? "mean_squared_error" : "mean_absolute_error";
  arguments::loss_pair(p_in, y_in, name);
  Tensor p = p_in.contiguous(), y = y_in.contiguous(), g = g_in.contiguous();
  const int64_t c = p.dim(-1), rows = arguments::as_rows(p.shape())[0];
  KCORE_CHECK(g.numel() == rows, name << " backward: gradient has the wrong size");
  Tensor out = Tensor::empty(p.shape(), p.dtype());
  dispatch_float(p.dtype(), name, [&](auto tag) {
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
  return out;
}

}  // namespace kcore::cpu
