// A float32 GEMM with the right-hand matrix packed once and reused many times: the recurrent
// products of the RNN kernels (the same weights for every time step). OpenBLAS has no
// pack-once API and re-packs B on every call; here B is packed into panels of kNR columns
// (K rows each, zero-padded at the right edge) that stay resident in the owning thread's cache.
//
// The micro-kernel is written once with GCC vector extensions, so each engine build compiles it
// for its own instruction set: 16-float vectors and a 12 x 32 tile with AVX-512, 8-float vectors
// and a 6 x 16 tile with AVX2, 4-float vectors and a 4 x 8 tile on baseline x86-64.
#pragma once
#include <cstdint>
#include <vector>

namespace kcore::packed {

#if defined(__AVX512F__)
constexpr int kVec = 16, kMR = 12;
#elif defined(__AVX2__)
constexpr int kVec = 8, kMR = 6;
#else
constexpr int kVec = 4, kMR = 4;
#endif
constexpr int kNR = 2 * kVec;  // columns per packed panel (two vectors)

// B (k x n) in panels of kNR columns: panel p holds columns [p kNR, (p + 1) kNR) as k rows of kNR floats.
class PackedMatrix {
 public:
  PackedMatrix() = default;
  PackedMatrix(int64_t k, int64_t n) { resize(k, n); }
  void resize(int64_t k, int64_t n);
  int64_t k() const { return k_; }
  int64_t n() const { return n_; }
  int64_t panels() const { return (n_ + kNR - 1) / kNR; }
  float* panel(int64_t p) { return data_.data() + p * k_ * kNR; }
  const float* panel(int64_t p) const { return data_.data() + p * k_ * kNR; }

  // Packs panels [p0, p1) from src: B = src (k x n, row stride ld), or with trans B = src^T
  // where src is (n x k) with row stride ld. Threads may pack disjoint panel ranges concurrently.
  void pack(const float* src, int64_t ld, bool trans, int64_t p0, int64_t p1);
  void pack_all(const float* src, int64_t ld, bool trans) { pack(src, ld, trans, 0, panels()); }

 private:
  int64_t k_ = 0, n_ = 0;
  std::vector<float> data_;
};

// C[0:m, p kNR : ...] (+)= A (m x k, row stride lda) @ B's panels [p0, p1); C has row stride ldc and
// its columns are B's columns (c points at column 0). accumulate = false overwrites C. Runs on the
// calling thread only: callers split panels over threads.
void gemm_panels(const PackedMatrix& b, int64_t p0, int64_t p1, int64_t m, const float* a, int64_t lda, float* c,
                 int64_t ldc, bool accumulate);

// The same with c pointing at the first column of panel p0 (C holds only these panels' columns).
void gemm_panels_into(const PackedMatrix& b, int64_t p0, int64_t p1, int64_t m, const float* a, int64_t lda, float* c,
                      int64_t ldc, bool accumulate);

// The same for columns [c0, c1) of B (any range, not only panel boundaries).
void gemm_columns(const PackedMatrix& b, int64_t c0, int64_t c1, int64_t m, const float* a, int64_t lda, float* c,
                  int64_t ldc, bool accumulate);

// C (m x n) (+)= op(A) @ op(B) with op(A) (m x k), op(B) (k x n); trans_a: A is stored (k x m),
// trans_b: B is stored (n x k); row strides lda, ldb, ldc. B is packed in blocks of K rows,
// and kcore's threads split the columns (no synchronisation). For the large recurrent GEMMs
// (input projection, input gradient, weight gradients over all steps).
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
          int64_t ldb, float* c, int64_t ldc, bool accumulate);

// C (m x b.n()) (+)= op(A) @ B with B packed already (k = b.k() rows); A is (m x k), or with
// trans_a stored (k x m). Runs on the calling thread only.
void gemm_packed_b(bool trans_a, int64_t m, const float* a, int64_t lda, const PackedMatrix& b, float* c, int64_t ldc,
                   bool accumulate);

constexpr int64_t kKC = 256;  // rows of B packed at a time (a block stays in L2)

// packed::gemm on the calling thread alone; scratch (optional) holds the packed blocks, so a
// caller looping over many GEMMs allocates once.
void gemm_on_thread(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                    const float* b, int64_t ldb, float* c, int64_t ldc, bool accumulate,
                    PackedMatrix* scratch = nullptr);

}  // namespace kcore::packed
