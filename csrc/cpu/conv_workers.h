// Internal to the conv kernels: run a split of work on OpenMP workers that call sequential BLAS.
#pragma once
#include <cstdint>
#include <mutex>

#include "core/blas.h"
#include "core/parallel.h"

namespace kcore::conv_detail {

// Makes BLAS sequential while the workers run their own GEMMs, and restores it after. Counted,
// so concurrent convs from several Python threads (the GIL is released) restore it only when
// the last one finishes.
class SequentialBlas {
 public:
  SequentialBlas() {
    std::lock_guard<std::mutex> lock(mutex());
    if (active()++ == 0) blas_set_num_threads(1);
  }
  ~SequentialBlas() {
    std::lock_guard<std::mutex> lock(mutex());
    if (--active() == 0) blas_set_num_threads(num_threads());
  }

 private:
  static std::mutex& mutex() {
    static std::mutex m;
    return m;
  }
  static int& active() {
    static int n = 0;
    return n;
  }
};

// Runs fn(thread, lo, hi) on `threads` workers over an even split of [0, n).
template <typename Fn> void run_split(int threads, int64_t n, Fn&& fn) {
  if (threads <= 1) {
    fn(0, int64_t(0), n);
    return;
  }
  SequentialBlas sequential;
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num(), T = omp_get_num_threads();
    const int64_t lo = n * t / T, hi = n * (t + 1) / T;
    if (lo < hi) fn(t, lo, hi);
  }
}

}  // namespace kcore::conv_detail
