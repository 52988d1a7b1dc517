// CPU feature detection for the bfloat16 kernels (see cpu_features.h).
#include "cpu/cpu_features.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "core/errors.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define KCORE_X86 1
#endif
#if defined(__linux__) && defined(__x86_64__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace kcore {

namespace {

#if defined(KCORE_X86)
unsigned long long read_xcr0() {
  unsigned int lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<unsigned long long>(hi) << 32) | lo;
}

// Linux keeps AMX tile data off until a process asks (arch_prctl ARCH_REQ_XCOMP_PERM for XFEATURE 18).
bool request_amx_permission() {
#if defined(__linux__) && defined(__x86_64__)
  constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
#else
  return false;
#endif
}

CpuFeatures detect() {
  CpuFeatures f;
  unsigned int a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return f;  // no OSXSAVE: no AVX state at all
  const unsigned long long xcr0 = read_xcr0();
  const bool zmm_state = (xcr0 & 0xE6) == 0xE6;  // SSE, AVX, opmask, ZMM_Hi256, Hi16_ZMM
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return f;
  f.avx512f = zmm_state && (b & (1u << 16));
  f.amx_bf16 = d & (1u << 22);
  f.amx_tile = d & (1u << 24);
  unsigned int a1 = 0, b1, c1, d1;
  if (a >= 1) __get_cpuid_count(7, 1, &a1, &b1, &c1, &d1);
  f.avx512_bf16 = f.avx512f && (a1 & (1u << 5));
  const bool tile_state = (xcr0 & 0x60000) == 0x60000;  // XTILECFG, XTILEDATA
  f.amx_permitted = f.amx_tile && tile_state && request_amx_permission();
  return f;
}
#else
CpuFeatures detect() { return CpuFeatures(); }
#endif

Bf16Path best_path() { return cpu_features().avx512_bf16 ? Bf16Path::avx512_bf16 : Bf16Path::emulation; }

Bf16Path initial_path() {
  const char* env = std::getenv("KCORE_BF16_PATH");
  if (env && (std::strcmp(env, "fallback") == 0 || std::strcmp(env, "emulation") == 0)) return Bf16Path::emulation;
  return best_path();
}

std::atomic<int>& path_slot() {
  static std::atomic<int> slot(static_cast<int>(initial_path()));
  return slot;
}

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect();
  return features;
}

Bf16Path bf16_path() { return static_cast<Bf16Path>(path_slot().load(std::memory_order_relaxed)); }

const char* bf16_path_name(Bf16Path p) { return p == Bf16Path::avx512_bf16 ? "avx512_bf16" : "fp32 emulation"; }

void set_bf16_path(const std::string& name) {
  Bf16Path p;
  if (name == "auto") p = best_path();
  else if (name == "fallback" || name == "emulation") p = Bf16Path::emulation;
  else if (name == "avx512_bf16") {
    KCORE_CHECK(cpu_features().avx512_bf16, "set_bf16_path: this CPU has no usable avx512_bf16");
    p = Bf16Path::avx512_bf16;
  } else {
    throw ValueError("set_bf16_path: unknown path '" + name + "' (expected 'auto', 'fallback' or 'avx512_bf16')");
  }
  path_slot().store(static_cast<int>(p), std::memory_order_relaxed);
}

}  // namespace kcore
