// The CUDA conv kernels compiled for the host emulation (see include/cuda_runtime.h).
#include "cuda/conv.cu"
