#include "core/parallel.h"

#include <xmmintrin.h>

#include "core/blas.h"

namespace kcore {

namespace {
constexpr unsigned int kFtzDaz = 0x8040;  // MXCSR flush-to-zero | denormals-are-zero
int g_threads = 0;

void flush_denormals_on_team(int n) {
  // Workers only: the calling (Python) thread gets the mode per kernel call from DenormalGuard.
#pragma omp parallel num_threads(n)
  {
    if (omp_get_thread_num() != 0) _mm_setcsr(_mm_getcsr() | kFtzDaz);
  }
}
}  // namespace

int num_threads() {
  if (g_threads <= 0) set_num_threads(omp_get_num_procs());
  return g_threads;
}

void set_num_threads(int n) {
  if (n < 1) n = 1;
  g_threads = n;
  omp_set_num_threads(n);
  blas_library_single_threaded();
  blas_set_num_threads(n);
  flush_denormals_on_team(n);  // OpenMP workers are pooled: they keep the mode
}

DenormalGuard::DenormalGuard() : saved_(_mm_getcsr()) { _mm_setcsr(saved_ | kFtzDaz); }
DenormalGuard::~DenormalGuard() { _mm_setcsr(saved_); }

}  // namespace kcore
