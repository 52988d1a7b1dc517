// The CUDA column sums compiled for the host emulation (see include/cuda_runtime.h).
#include "cuda/gemm.cu"
