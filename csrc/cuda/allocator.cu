// A caching device allocator: blocks are rounded up to size classes and kept on per-size
// free lists when released, so steady-state training does no cudaMalloc/cudaFree. Memory
// is taken on demand only (never the whole card); on an out-of-memory error the cache is
// returned to the driver and the allocation is tried once more.
#include <map>
#include <mutex>
#include <sstream>
#include <vector>

#include "cuda/common.cuh"

namespace kcore::cuda {
namespace {

// 512-byte granules below 1 MiB, then 2 MiB granules: little waste and few size classes.
size_t size_class(size_t n) {
  if (n == 0) n = 1;
  const size_t g = n < (1u << 20) ? 512 : (2u << 20);
  return (n + g - 1) / g * g;
}

struct Cache {
  std::mutex mu;
  std::map<size_t, std::vector<void*>> free_blocks;
  MemoryStats stats{};

  void release_all_locked() {
    for (auto& kv : free_blocks)
      for (void* p : kv.second) {
        cudaFree(p);
        stats.reserved -= kv.first;
      }
    free_blocks.clear();
  }
};

Cache& cache() {
  static Cache* c = new Cache();  // never destroyed: storages may die after static teardown
  return *c;
}

std::string oom_message(size_t want, const MemoryStats& s, cudaError_t err) {
  std::ostringstream o;
  o << "CUDA out of memory allocating " << want << " bytes (" << cudaGetErrorString(err) << "); kcore holds "
    << s.allocated << " bytes in tensors and " << s.reserved << " bytes reserved";
  return o.str();
}

}  // namespace

void check(cudaError_t err, const char* what) {
  if (err == cudaSuccess) return;
  cudaGetLastError();  // clear a sticky-free error so the next call starts clean
  throw DeviceError(std::string("CUDA error in ") + what + ": " + cudaGetErrorName(err) + ": " +
                    cudaGetErrorString(err));
}

void* device_alloc(size_t nbytes) {
  const size_t sz = size_class(nbytes);
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  c.stats.num_allocs++;
  auto it = c.free_blocks.find(sz);
  void* p = nullptr;
  if (it != c.free_blocks.end() && !it->second.empty()) {
    p = it->second.back();
    it->second.pop_back();
  } else {
    cudaError_t err = cudaMalloc(&p, sz);
    if (err == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      c.release_all_locked();
      err = cudaMalloc(&p, sz);
    }
    if (err != cudaSuccess) {
      cudaGetLastError();
      throw DeviceError(oom_message(sz, c.stats, err));
    }
    c.stats.num_cuda_mallocs++;
    c.stats.reserved += sz;
    c.stats.peak_reserved = std::max(c.stats.peak_reserved, c.stats.reserved);
  }
  c.stats.allocated += sz;
  c.stats.peak_allocated = std::max(c.stats.peak_allocated, c.stats.allocated);
  return p;
}

void device_free(void* p, size_t nbytes) {
  if (!p) return;
  const size_t sz = size_class(nbytes);
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  c.stats.allocated -= sz;
  c.free_blocks[sz].push_back(p);
}

MemoryStats memory_stats() {
  std::lock_guard<std::mutex> lock(cache().mu);
  return cache().stats;
}

void reset_peak_stats() {
  std::lock_guard<std::mutex> lock(cache().mu);
  cache().stats.peak_allocated = cache().stats.allocated;
  cache().stats.peak_reserved = cache().stats.reserved;
}

void empty_cache() {
  std::lock_guard<std::mutex> lock(cache().mu);
  cache().release_all_locked();
}

Tensor empty(const Shape& shape, DType dtype) {
  const size_t nbytes = (size_t)tensor_nbytes(shape, dtype);  // checked: negative dims, int64 overflow
  auto st = std::make_shared<Storage>();
  st->data = device_alloc(nbytes);
  st->nbytes = nbytes;
  st->device = Device::cuda;
  st->release = [nbytes](void* q) { device_free(q, nbytes); };
  return Tensor(st, shape, dtype);
}

void check_on_cuda(const Tensor& t, const char* op, const char* name) {
  KCORE_CHECK(t.defined(), op << ": " << name << " is undefined");
  KCORE_CHECK(t.device() == Device::cuda, op << ": " << name << " must be on cuda");
}

}  // namespace kcore::cuda
