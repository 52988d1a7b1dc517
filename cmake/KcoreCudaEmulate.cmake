# kcore._C_cuda_emu (tests only, never installed): the CUDA conv / pooling / recurrent kernels of
# csrc/cuda compiled as C++ against a host emulation of the CUDA runtime (csrc/cuda/emulate), so
# tests/test_cuda_nn.py can check them against the CPU engine without a GPU. tools/cuda_emulate.sh
# builds it in build/emu and links it into kcore/.
option(KCORE_CUDA_EMULATE "Build kcore._C_cuda_emu: the CUDA nn kernels emulated on the host, for tests" OFF)
if(KCORE_CUDA_EMULATE)
  file(GLOB _kc_emu_sources CONFIGURE_DEPENDS csrc/cuda/emulate/*.cpp)
  pybind11_add_module(_C_cuda_emu NO_EXTRAS ${_kc_emu_sources} ${KCORE_CORE_SOURCES} ${KCORE_CPU_SOURCES})
  set_target_properties(_C_cuda_emu PROPERTIES CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
  target_include_directories(_C_cuda_emu BEFORE PRIVATE csrc/cuda/emulate/include)
  target_include_directories(_C_cuda_emu PRIVATE csrc)
  target_link_libraries(_C_cuda_emu PRIVATE kcore_blas OpenMP::OpenMP_CXX)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(_C_cuda_emu PRIVATE -O2 -Wall -Wno-unused-function -Wno-sign-compare)
  endif()
endif()
