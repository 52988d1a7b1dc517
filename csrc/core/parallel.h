// Threading: one setting for OpenMP and BLAS, and denormal flushing on every kernel thread.
#pragma once
#include <algorithm>
#include <cstdint>

#include <omp.h>

namespace kcore {

int num_threads();
void set_num_threads(int n);

// Sets FTZ/DAZ on the calling thread for its lifetime and restores the old mode after.
class DenormalGuard {
 public:
  DenormalGuard();
  ~DenormalGuard();

 private:
  unsigned int saved_;
};

// Splits [0, n) into contiguous chunks over the OpenMP team; runs inline when the work
// is small (fewer than `grain` items per thread) or we are already inside a parallel region.
template <typename Fn>
void parallel_for(int64_t n, int64_t grain, Fn&& fn) {
  if (n <= 0) return;
  int nt = num_threads();
  int64_t max_chunks = std::max<int64_t>(1, n / std::max<int64_t>(grain, 1));
  if (nt <= 1 || max_chunks <= 1 || omp_in_parallel()) {
    fn(int64_t(0), n);
    return;
  }
  int team = (int)std::min<int64_t>(nt, max_chunks);
#pragma omp parallel num_threads(team)
  {
    int t = omp_get_thread_num(), T = omp_get_num_threads();
    int64_t lo = n * t / T, hi = n * (t + 1) / T;
    if (lo < hi) fn(lo, hi);
  }
}

}  // namespace kcore
