// bfloat16 GEMM with float32 accumulation: C (float32) (+)= op(A) @ op(B), A and B in bfloat16
// (raw uint16_t bit patterns) or float32 rounded to bfloat16 while packing (a float32 gradient
// times bfloat16 weights, say).
//
// B is packed in panels of kNR = 32 columns in the pair-interleaved layout of vdpbf16ps: for
// each pair of K rows (2q, 2q + 1) a panel holds, column by column, B[2q][j], B[2q + 1][j] - two
// 512-bit vectors of 16 columns each. K is padded to even with zeros. A's rows are read as pairs
// (A[i][2q], A[i][2q + 1]) broadcast to every lane: straight from a row-major bfloat16 A with
// even K, otherwise from a packed copy.
//
// Two micro-kernels read the same layout, chosen at run time (cpu_features.h): vdpbf16ps on
// CPUs with AVX512-BF16 (compiled with a target attribute, so every engine build has it), and an
// emulation that widens bfloat16 to float32 in registers (a shift) and uses float32 FMAs.
#pragma once
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/bfloat16.h"
#include "cpu/cpu_features.h"

namespace kcore::bfgemm {

constexpr int kNR = 32;  // columns per packed panel

// One operand as stored: bfloat16 (f32 = false) or float32 data, row stride ld (elements), and
// trans: the stored matrix is the transpose of the operand.
struct Operand {
  const void* data;
  int64_t ld;
  bool trans = false;
  bool f32 = false;
};

inline Operand bf16_operand(const uint16_t* p, int64_t ld, bool trans = false) { return {p, ld, trans, false}; }
inline Operand f32_operand(const float* p, int64_t ld, bool trans = false) { return {p, ld, trans, true}; }

// B (k x n) in pair-interleaved panels of kNR columns.
class PackedB {
 public:
  void resize(int64_t k, int64_t n);
  int64_t k() const { return k_; }
  int64_t n() const { return n_; }
  int64_t pairs() const { return (k_ + 1) / 2; }
  int64_t panels() const { return (n_ + kNR - 1) / kNR; }
  const uint16_t* panel(int64_t p) const { return data_.data() + p * pairs() * 2 * kNR; }
  // Packs panels [p0, p1) of op(src) (k x n): threads may pack disjoint ranges concurrently.
  void pack(const Operand& src, int64_t p0, int64_t p1);
  void pack_all(const Operand& src) { pack(src, 0, panels()); }

 private:
  uint16_t* panel_mut(int64_t p) { return data_.data() + p * pairs() * 2 * kNR; }
  int64_t k_ = 0, n_ = 0;
  std::vector<uint16_t> data_;
};

// A (m x k) as the micro-kernels read it: rows of pairs (a bfloat16 row-major matrix with even K
// read in place, or a converted copy), or, for a transposed source, tiles of rows whose pairs
// are row-interleaved (two source rows interleaved per pair).
class PackedA {
 public:
  // Packs op(src) (m x k); reads a bfloat16, untransposed, even-K source in place (no copy).
  // The pointer is kept: the source must outlive the products.
  void pack(const Operand& src, int64_t m, int64_t k);
  int64_t m() const { return m_; }
  int64_t k() const { return k_; }
  int64_t pairs() const { return (k_ + 1) / 2; }
  // The micro-kernel family chosen when packing (the tile heights depend on it).
  Bf16Path path() const { return path_; }
  // Rows [i, i + r) of a tile: the first pair's address, the distance (uint16 elements) between
  // rows and between pairs.
  const uint16_t* tile(int64_t i, int64_t r, int64_t* row_step, int64_t* pair_step) const;

 private:
  const uint16_t* direct_ = nullptr;
  int64_t ld_ = 0, m_ = 0, k_ = 0;
  Bf16Path path_ = Bf16Path::emulation;
  bool tiled_ = false;
  std::vector<uint16_t> data_;
};

// C[0:m, panel columns] (+)= A @ B's panels [p0, p1); c points at column 0, row stride ldc. Runs on
// the calling thread (callers split panels over threads).
void gemm_panels(const PackedB& b, int64_t p0, int64_t p1, const PackedA& a, float* c, int64_t ldc, bool accumulate);
// The same with c pointing at the first column of panel p0 (C holds only these panels' columns).
void gemm_panels_into(const PackedB& b, int64_t p0, int64_t p1, const PackedA& a, float* c, int64_t ldc,
                      bool accumulate);

// C (m x n) (+)= op(A) @ op(B), op(A) m x k, op(B) k x n: blocked over K, threads over columns
// (or rows for tall, narrow products).
void gemm(int64_t m, int64_t n, int64_t k, const Operand& a, const Operand& b, float* c, int64_t ldc, bool accumulate);

}  // namespace kcore::bfgemm
