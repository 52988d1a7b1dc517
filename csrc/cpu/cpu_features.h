// What this CPU offers the bfloat16 kernels, detected once at load (cpuid + the OS's saved vector
// state), and which bfloat16 path the kernels run: "avx512_bf16" (vdpbf16ps) or "fp32 emulation"
// (bf16 widened to float32 in registers, float32 FMAs). AMX is detected, and on Linux the tile-data
// permission is requested once, but kcore has no AMX kernel yet: an AMX machine runs avx512_bf16.
// KCORE_BF16_PATH=fallback (read at load) or set_bf16_path() forces the emulation path.
#pragma once
#include <string>

namespace kcore {

struct CpuFeatures {
  bool avx512f = false;        // the CPU and the OS (ZMM state saved)
  bool avx512_bf16 = false;    // vdpbf16ps / vcvtne2ps2bf16, with avx512f usable
  bool amx_tile = false;       // the CPU reports AMX-TILE
  bool amx_bf16 = false;       // the CPU reports AMX-BF16
  bool amx_permitted = false;  // the OS granted tile-data state to this process (Linux arch_prctl)
};

// Detected on first use (kcore._C calls it at load), never changes afterwards.
const CpuFeatures& cpu_features();

enum class Bf16Path { emulation, avx512_bf16 };

// The path the bfloat16 GEMM kernels take now.
Bf16Path bf16_path();
// "avx512_bf16" / "fp32 emulation".
const char* bf16_path_name(Bf16Path p);
// Forces a path: "fallback" (emulation), "auto" (the best this CPU has); raises ValueError for
// another name or for "avx512_bf16" on a CPU without it. For tests and benchmarks.
void set_bf16_path(const std::string& name);

}  // namespace kcore
