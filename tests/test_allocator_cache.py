"""The host allocator caches freed blocks from 128 KiB up (csrc/core/allocator.cpp): a training loop
reuses them instead of having glibc map fresh pages that fault in on every step."""
import resource

import numpy as np

from kcore import ops


def _minor_faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def test_blocks_between_128k_and_1m_are_reused_without_page_faults():
    x = ops.convert_to_tensor(np.ones(75_000, np.float32))  # 300 KB results: below the old 1 MiB limit
    for _ in range(20):
        live = [ops.add(x, x) for _ in range(8)]
    del live
    before = _minor_faults()
    for _ in range(300):  # eight live at once, then all freed: glibc trims its heap and maps them again
        live = [ops.add(x, x) for _ in range(8)]
        del live
    faults = _minor_faults() - before
    # without the cache: about 75 page faults per allocation (about 100,000 here)
    assert faults < 5000, f"{faults} minor page faults over 2,400 allocations of 300 KB"
