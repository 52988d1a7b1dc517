// The CUDA pool kernels compiled for the host emulation (see include/cuda_runtime.h).
#include "cuda/pool.cu"
