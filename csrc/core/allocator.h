// Host memory for tensors: 64-byte aligned. Blocks of 1 MiB and more are cached after release
// (up to 256 MiB in all) and handed out again for the same size: fresh pages from the OS cost
// page faults and zeroing, often more than the kernel that fills them.
#pragma once
#include <cstddef>

namespace kcore {

// Returns memory for `bytes`; `reserved` receives the size to pass back to host_free.
void* host_alloc(size_t bytes, size_t* reserved);
void host_free(void* p, size_t reserved);
// Bytes held in the cache right now (for tests and diagnostics).
size_t host_cached_bytes();

}  // namespace kcore
