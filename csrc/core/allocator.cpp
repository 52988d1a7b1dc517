#include "core/allocator.h"

#include <cstdlib>
#include <iterator>
#include <map>
#include <mutex>
#include <new>

namespace kcore {

namespace {
constexpr size_t kCachedFrom = size_t(1) << 20;  // smaller blocks go straight to malloc
constexpr size_t kGranule = size_t(1) << 16;     // cached sizes are rounded up to 64 KiB
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
  size_t size = bytes < kCachedFrom ? ((bytes + 63) / 64) * 64 : (bytes + kGranule - 1) / kGranule * kGranule;
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
