// See nccl.h. NCCL's C ABI (types, enum values, signatures) is declared here, so no nccl.h is needed
// at build time; the values are those of NCCL 2.x.
#include "cuda/nccl.h"

#include <cuda_runtime.h>
#include <dlfcn.h>

#include <cstring>
#include <mutex>
#include <string>

#include "core/errors.h"
#include "cuda/device.h"

namespace kcore::cuda::nccl {
namespace {

typedef struct ncclComm* ncclComm_t;
typedef struct {
  char internal[kUniqueIdBytes];
} ncclUniqueId;
typedef int ncclResult_t;  // 0 = ncclSuccess
enum ncclDataType { ncclInt32 = 2, ncclInt64 = 4, ncclFloat32 = 7, ncclFloat64 = 8 };
enum ncclRedOp { ncclSum = 0, ncclMax = 2, ncclMin = 3, ncclAvg = 4 };

struct Api {
  void* lib = nullptr;
  ncclResult_t (*GetVersion)(int*) = nullptr;
  ncclResult_t (*GetUniqueId)(ncclUniqueId*) = nullptr;
  ncclResult_t (*CommInitRank)(ncclComm_t*, int, ncclUniqueId, int) = nullptr;
  ncclResult_t (*CommDestroy)(ncclComm_t) = nullptr;
  ncclResult_t (*AllReduce)(const void*, void*, size_t, int, int, ncclComm_t, cudaStream_t) = nullptr;
  ncclResult_t (*Broadcast)(const void*, void*, size_t, int, int, ncclComm_t, cudaStream_t) = nullptr;
  ncclResult_t (*GroupStart)() = nullptr;
  ncclResult_t (*GroupEnd)() = nullptr;
  const char* (*GetErrorString)(ncclResult_t) = nullptr;
};

Api api;
std::mutex api_mutex;

const Api& require() {
  if (!api.lib) throw DeviceError("NCCL is not loaded: call kcore.distribution's NCCL setup (nccl_load) first");
  return api;
}

void check(ncclResult_t r, const char* what) {
  if (r != 0) {
    std::string msg = std::string(what) + " failed: NCCL error " + std::to_string(r);
    if (api.GetErrorString) msg += std::string(" (") + api.GetErrorString(r) + ")";
    throw DeviceError(msg);
  }
}

template <typename F>
void resolve(void* lib, const char* name, F*& slot) {
  void* sym = dlsym(lib, name);
  if (!sym) throw DeviceError(std::string("libnccl has no symbol ") + name + " (NCCL 2.x is needed)");
  slot = reinterpret_cast<F*>(sym);
}

int data_type(const std::string& dtype) {
  if (dtype == "float32") return ncclFloat32;
  if (dtype == "float64") return ncclFloat64;
  if (dtype == "int64") return ncclInt64;
  if (dtype == "int32") return ncclInt32;
  throw TypeError("nccl: unsupported dtype " + dtype + " (float32, float64, int32, int64)");
}

int red_op(const std::string& op) {
  if (op == "sum") return ncclSum;
  if (op == "max") return ncclMax;
  if (op == "min") return ncclMin;
  if (op == "avg") return ncclAvg;
  throw TypeError("nccl: unsupported reduction " + op + " (sum, max, min, avg)");
}

}  // namespace

void load(const std::string& path) {
  std::lock_guard<std::mutex> lock(api_mutex);
  if (api.lib) return;
  const char* name = path.empty() ? "libnccl.so.2" : path.c_str();
  void* lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char* err = dlerror();
    throw DeviceError(std::string("could not load NCCL (") + name + "): " + (err ? err : "unknown error") +
                      "; install it with `pip install nvidia-nccl-cu12` (or -cu13)");
  }
  Api a;
  a.lib = lib;
  resolve(lib, "ncclGetVersion", a.GetVersion);
  resolve(lib, "ncclGetUniqueId", a.GetUniqueId);
  resolve(lib, "ncclCommInitRank", a.CommInitRank);
  resolve(lib, "ncclCommDestroy", a.CommDestroy);
  resolve(lib, "ncclAllReduce", a.AllReduce);
  resolve(lib, "ncclBroadcast", a.Broadcast);
  resolve(lib, "ncclGroupStart", a.GroupStart);
  resolve(lib, "ncclGroupEnd", a.GroupEnd);
  resolve(lib, "ncclGetErrorString", a.GetErrorString);
  api = a;
}

bool loaded() { return api.lib != nullptr; }

int version() {
  int v = 0;
  check(require().GetVersion(&v), "ncclGetVersion");
  return v;
}

std::string unique_id() {
  ncclUniqueId id;
  check(require().GetUniqueId(&id), "ncclGetUniqueId");
  return std::string(id.internal, kUniqueIdBytes);
}

uintptr_t comm_init(const std::string& id, int nranks, int rank) {
  if (id.size() != (size_t)kUniqueIdBytes)
    throw ValueError("nccl comm_init: the unique id must have " + std::to_string(kUniqueIdBytes) + " bytes, got " +
                     std::to_string(id.size()));
  if (nranks < 1 || rank < 0 || rank >= nranks)
    throw ValueError("nccl comm_init: rank " + std::to_string(rank) + " is not in [0, " + std::to_string(nranks) + ")");
  ncclUniqueId uid;
  std::memcpy(uid.internal, id.data(), kUniqueIdBytes);
  ncclComm_t comm = nullptr;
  check(require().CommInitRank(&comm, nranks, uid, rank), "ncclCommInitRank");
  return reinterpret_cast<uintptr_t>(comm);
}

void comm_destroy(uintptr_t comm) {
  if (comm) check(require().CommDestroy(reinterpret_cast<ncclComm_t>(comm)), "ncclCommDestroy");
}

void allreduce(uintptr_t comm, uintptr_t ptr, size_t count, const std::string& dtype, const std::string& op) {
  if (!comm) throw ValueError("nccl allreduce: the communicator is closed");
  void* buf = reinterpret_cast<void*>(ptr);
  check(require().AllReduce(buf, buf, count, data_type(dtype), red_op(op), reinterpret_cast<ncclComm_t>(comm), kStream),
        "ncclAllReduce");
}

void broadcast(uintptr_t comm, uintptr_t ptr, size_t count, const std::string& dtype, int root) {
  if (!comm) throw ValueError("nccl broadcast: the communicator is closed");
  void* buf = reinterpret_cast<void*>(ptr);
  check(require().Broadcast(buf, buf, count, data_type(dtype), root, reinterpret_cast<ncclComm_t>(comm), kStream),
        "ncclBroadcast");
}

void group_start() { check(require().GroupStart(), "ncclGroupStart"); }
void group_end() { check(require().GroupEnd(), "ncclGroupEnd"); }

}  // namespace kcore::cuda::nccl
