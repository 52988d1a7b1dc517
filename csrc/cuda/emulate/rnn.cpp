// The CUDA rnn kernels compiled for the host emulation (see include/cuda_runtime.h).
#include "cuda/rnn.cu"
