# kcore._C_cuda: the CUDA kernels (csrc/cuda/*.cu) plus a private copy of the core Tensor code,
# registered into kcore._C at import. Off by default so CPU-only installs never need nvcc.
#   -DKCORE_CUDA=ON|AUTO          build it (AUTO: only when a CUDA compiler is found)
#   -DKCORE_CUDA_ARCH=90          target Hopper (sm_90 SASS + compute_90 PTX); "90a" for sm_90a
#   -DCUDAToolkit_ROOT=/path      a toolkit outside the default places
#   -DKCORE_CUBLAS_ROOT=/path     cuBLAS outside the toolkit (pip's nvidia-cublas layout)

set(_kc_cuda_wanted OFF)
string(TOUPPER "${KCORE_CUDA}" _kc_cuda_mode)
if(_kc_cuda_mode STREQUAL "AUTO")
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    set(_kc_cuda_wanted ON)
  else()
    message(STATUS "kcore: KCORE_CUDA=AUTO and no CUDA compiler found; building the CPU engine only")
  endif()
elseif(KCORE_CUDA)
  set(_kc_cuda_wanted ON)
endif()

if(_kc_cuda_wanted)
  # Architectures: explicit, else the visible GPU, else a portable set (SASS for Turing to
  # Hopper, plus compute_90 PTX that newer GPUs JIT-compile at load).
  if(KCORE_CUDA_ARCH)
    set(CMAKE_CUDA_ARCHITECTURES "${KCORE_CUDA_ARCH}")
  elseif(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
    execute_process(COMMAND nvidia-smi -L RESULT_VARIABLE _kc_smi_rc OUTPUT_QUIET ERROR_QUIET)
    if(_kc_smi_rc EQUAL 0)
      set(CMAKE_CUDA_ARCHITECTURES native)
    else()
      set(CMAKE_CUDA_ARCHITECTURES "75-real;80-real;86-real;90-real;90-virtual")
    endif()
  endif()
  enable_language(CUDA)
  find_package(CUDAToolkit REQUIRED)
  message(STATUS "kcore: building kcore._C_cuda for CUDA architectures ${CMAKE_CUDA_ARCHITECTURES} "
                 "(toolkit ${CUDAToolkit_VERSION})")

  # cuBLAS: the toolkit's, else one found under KCORE_CUBLAS_ROOT (pip wheels ship only
  # the versioned libcublas.so.N, hence the explicit names).
  if(TARGET CUDA::cublas AND NOT KCORE_CUBLAS_ROOT)
    set(_kc_cublas CUDA::cublas)
  else()
    find_path(KCORE_CUBLAS_INCLUDE cublas_v2.h
              HINTS "${KCORE_CUBLAS_ROOT}/include" ${CUDAToolkit_INCLUDE_DIRS} NO_DEFAULT_PATH)
    find_file(KCORE_CUBLAS_LIBRARY NAMES libcublas.so libcublas.so.13 libcublas.so.12
              HINTS "${KCORE_CUBLAS_ROOT}/lib" "${KCORE_CUBLAS_ROOT}/lib64" ${CUDAToolkit_LIBRARY_DIR} NO_DEFAULT_PATH)
    if(NOT KCORE_CUBLAS_INCLUDE OR NOT KCORE_CUBLAS_LIBRARY)
      message(FATAL_ERROR "kcore: cuBLAS not found; install it with the CUDA toolkit or pass "
                          "-DKCORE_CUBLAS_ROOT=<dir with include/cublas_v2.h and lib/libcublas.so*>")
    endif()
    add_library(kcore_cublas SHARED IMPORTED)
    set_target_properties(kcore_cublas PROPERTIES IMPORTED_LOCATION "${KCORE_CUBLAS_LIBRARY}"
                          INTERFACE_INCLUDE_DIRECTORIES "${KCORE_CUBLAS_INCLUDE}")
    set(_kc_cublas kcore_cublas)
    get_filename_component(_kc_cublas_dir "${KCORE_CUBLAS_LIBRARY}" DIRECTORY)
  endif()

  file(GLOB KCORE_CUDA_SOURCES CONFIGURE_DEPENDS csrc/cuda/*.cu)
  add_library(kcore_cuda_kernels STATIC ${KCORE_CUDA_SOURCES})
  set_target_properties(kcore_cuda_kernels PROPERTIES POSITION_INDEPENDENT_CODE ON CUDA_STANDARD 17
                        CUDA_STANDARD_REQUIRED ON CUDA_VISIBILITY_PRESET hidden)
  target_include_directories(kcore_cuda_kernels PRIVATE csrc)
  target_compile_options(kcore_cuda_kernels PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:-O3 --expt-relaxed-constexpr>)
  target_link_libraries(kcore_cuda_kernels PRIVATE ${_kc_cublas} CUDA::cudart_static ${CMAKE_DL_LIBS})  # dl: libnccl at run time

  pybind11_add_module(_C_cuda NO_EXTRAS csrc/cuda/module.cpp ${KCORE_CORE_SOURCES})
  set_target_properties(_C_cuda PROPERTIES CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
  target_include_directories(_C_cuda PRIVATE csrc)
  target_link_libraries(_C_cuda PRIVATE kcore_cuda_kernels ${_kc_cublas} CUDA::cudart_static kcore_blas
                        OpenMP::OpenMP_CXX)
  string(REPLACE ";" "," _kc_archs "${CMAKE_CUDA_ARCHITECTURES}")
  target_compile_definitions(_C_cuda PRIVATE KCORE_CUDA_ARCHS="${_kc_archs}")
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(_C_cuda PRIVATE -O3 -Wall -Wno-unused-function)
  endif()
  # At run time: scipy-openblas beside us, cuBLAS from pip's nvidia-cublas beside us, or the
  # directory it was found in at build time.
  set(_kc_rpath "$ORIGIN/../scipy_openblas32/lib;$ORIGIN/../nvidia/cu13/lib;$ORIGIN/../nvidia/cublas/lib")
  if(_kc_cublas_dir)
    list(APPEND _kc_rpath "${_kc_cublas_dir}")
  endif()
  set_target_properties(_C_cuda PROPERTIES INSTALL_RPATH "${_kc_rpath}" BUILD_RPATH "${_kc_rpath}")
  install(TARGETS _C_cuda LIBRARY DESTINATION kcore)
endif()
