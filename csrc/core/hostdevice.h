// KCORE_HD marks small inline helpers that both the CPU kernels (plain C++) and the CUDA
// kernels (nvcc, __host__ __device__) compile, so index and geometry math is written once.
#pragma once

#ifdef __CUDACC__
#define KCORE_HD __host__ __device__ inline
#else
#define KCORE_HD inline
#endif
