// NCCL collectives for data-parallel training (kcore.distribution), one GPU per process.
// libnccl is not linked: it is dlopen()ed at run time (the nvidia-nccl wheel's libnccl.so.2, or the
// system's), so the extension builds and imports without NCCL. Host code only.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace kcore::cuda::nccl {

constexpr int kUniqueIdBytes = 128;

// Loads libnccl from `path` ("" = the loader's search path); throws DeviceError with dlerror()'s words.
void load(const std::string& path);
bool loaded();
int version();  // e.g. 22703 for 2.27.3

// A fresh unique id (rank 0 creates it; the ranks exchange it over MPI).
std::string unique_id();

// Communicators are handed to Python as opaque integers.
uintptr_t comm_init(const std::string& id, int nranks, int rank);
void comm_destroy(uintptr_t comm);

// In place, on the default stream, over `count` elements of dtype "float32" | "float64" | "int64" | "int32".
// op: "sum" | "max" | "min" | "avg". The call is ordered with kcore's kernels (same stream).
void allreduce(uintptr_t comm, uintptr_t ptr, size_t count, const std::string& dtype, const std::string& op);
void broadcast(uintptr_t comm, uintptr_t ptr, size_t count, const std::string& dtype, int root);
// ncclGroupStart / ncclGroupEnd: the collectives in between are launched together (fused by NCCL).
void group_start();
void group_end();

}  // namespace kcore::cuda::nccl
