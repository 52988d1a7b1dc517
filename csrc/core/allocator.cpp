#include "core/allocator.h"

#include <cstdlib>
#include <iterator>
#include <map>
#include <mutex>
#include <new>

namespace kcore {

namespace {
// Blocks from 128 KiB up are cached (glibc would map and unmap them, and every reuse would page-fault
// them in again); smaller ones go straight to malloc. Sizes are rounded up to 4 KiB below 1 MiB and
// to 64 KiB above.
constexpr size_t kCachedFrom = size_t(1) << 17;
constexpr size_t kFineUpTo = size_t(1) << 20;
constexpr size_t kFineGranule = size_t(1) << 12;
constexpr size_t kGranule = size_t(1) << 16;
constexpr size_t kCacheLimit = size_t(256) << 20;

class BlockCache {
 public:
  static BlockCache& get() {
    static BlockCache* cache = new BlockCache();  // never destroyed: tensors may outlive statics
    return *cache;
  }

  void* take(size_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = free_.find(bytes);
    if (it == free_.end()) return nullptr;
    void* p = it->second;
    free_.erase(it);
    cached_ -= bytes;
    return p;
  }

  void give(void* p, size_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    while (cached_ + bytes > kCacheLimit && !free_.empty()) {  // evict the largest blocks first
      auto last = std::prev(free_.end());
      std::free(last->second);
      cached_ -= last->first;
      free_.erase(last);
    }
    if (cached_ + bytes > kCacheLimit) {
      std::free(p);
      return;
    }
    free_.emplace(bytes, p);
    cached_ += bytes;
  }

  size_t cached() {
    std::lock_guard<std::mutex> lock(mu_);
    return cached_;
  }

 private:
  std::mutex mu_;
  std::multimap<size_t, void*> free_;
  size_t cached_ = 0;
};
}  // namespace

void* host_alloc(size_t bytes, size_t* reserved) {
  const size_t granule = bytes < kCachedFrom ? 64 : bytes < kFineUpTo ? kFineGranule : kGranule;
  size_t size = (bytes + granule - 1) / granule * granule;
  if (size == 0) size = 64;
  *reserved = size;
  if (size >= kCachedFrom)
    if (void* p = BlockCache::get().take(size)) return p;
  void* p = std::aligned_alloc(64, size);
  if (!p) throw std::bad_alloc();
  return p;
}

void host_free(void* p, size_t reserved) {
  if (reserved >= kCachedFrom) BlockCache::get().give(p, reserved);
  else std::free(p);
}

size_t host_cached_bytes() { return BlockCache::get().cached(); }

}  // namespace kcore
