// The DLPack exchange structs (ABI of DLPack 0.8, the version NumPy, CuPy and PyTorch
// accept as the "dltensor" capsule). Written out here so kcore needs no extra header.
#pragma once
#include <cstdint>

extern "C" {

enum KcDLDeviceType : int32_t { kKcDLCPU = 1, kKcDLCUDA = 2, kKcDLCUDAManaged = 13 };
enum KcDLDataTypeCode : uint8_t { kKcDLInt = 0, kKcDLUInt = 1, kKcDLFloat = 2, kKcDLBfloat = 4, kKcDLBool = 6 };

struct KcDLDevice {
  int32_t device_type;
  int32_t device_id;
};
struct KcDLDataType {
  uint8_t code;
  uint8_t bits;
  uint16_t lanes;
};
struct KcDLTensor {
  void* data;
  KcDLDevice device;
  int32_t ndim;
  KcDLDataType dtype;
  int64_t* shape;
  int64_t* strides;  // in elements; null means C-contiguous
  uint64_t byte_offset;
};
struct KcDLManagedTensor {
  KcDLTensor dl_tensor;
  void* manager_ctx;
  void (*deleter)(KcDLManagedTensor* self);
};

}  // extern "C"
