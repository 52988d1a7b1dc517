// The GEMMs of the packed recurrent path (rnn_forward.cpp, rnn_backward.cpp), as two
// interchangeable engines: float32 (cpu/gemm_packed.h) and bfloat16 operands with float32
// accumulation (cpu/gemm_bf16.h) for layers whose inputs are bfloat16. Both take the float32
// buffers the recurrent kernels keep (gates, states and cell state stay float32); the bfloat16
// engine rounds its operands to bfloat16 while packing them: the weights once per pass, the
// per-step left operand (x_t, h_{t-1}, the gate gradients) every step.
#pragma once
#include <cstdint>
#include <vector>

#include "cpu/gemm_bf16.h"
#include "cpu/gemm_packed.h"

namespace kcore::rnn_cpu {

struct F32Gemm {
  static constexpr int kNR = packed::kNR;
  static constexpr int64_t kKC = packed::kKC;  // K rows of a weight-gradient block
  using Weights = packed::PackedMatrix;
  // The left operand of a per-step product: float32 rows read in place.
  struct Rows {
    const float* a = nullptr;
    int64_t m = 0, ld = 0;
    void set(const float* p, int64_t rows, int64_t /*k*/, int64_t row_stride) {
      a = p;
      m = rows;
      ld = row_stride;
    }
  };
  static void pack(Weights& w, const float* src, int64_t ld, bool trans, int64_t p0, int64_t p1) {
    w.pack(src, ld, trans, p0, p1);
  }
  // The gate gradients of the backward pass as its GEMMs read them, by step (rows of `batch`
  // rows): the float32 rows themselves.
  struct Grads {
    const float *dgh, *dgx;
    int64_t per_step;  // elements of one step: batch * G * U
    Grads(const float* h, const float* x, int64_t batch, int64_t gu, int64_t /*ring*/)
        : dgh(h), dgx(x), per_step(batch * gu) {}
    void copy(int64_t /*step*/, int64_t /*c0*/, int64_t /*c1*/) {}
    const float* h(int64_t step) const { return dgh + step * per_step; }
    const float* x(int64_t step) const { return dgx + step * per_step; }
    bool split() const { return dgx != dgh; }
  };
  static void panels(const Weights& w, int64_t p0, int64_t p1, const Rows& a, float* c, int64_t ldc, bool acc) {
    packed::gemm_panels(w, p0, p1, a.m, a.a, a.ld, c, ldc, acc);
  }
  static void panels_into(const Weights& w, int64_t p0, int64_t p1, const Rows& a, float* c, int64_t ldc, bool acc) {
    packed::gemm_panels_into(w, p0, p1, a.m, a.a, a.ld, c, ldc, acc);
  }
  static void gemm_packed_b(bool ta, int64_t m, const float* a, int64_t lda, const Weights& b, float* c, int64_t ldc,
                            bool acc) {
    packed::gemm_packed_b(ta, m, a, lda, b, c, ldc, acc);
  }
};

struct Bf16Gemm {
  static constexpr int kNR = bfgemm::kNR;
  static constexpr int64_t kKC = 512;
  using Weights = bfgemm::PackedB;
  // The left operand of a per-step product, rounded to bfloat16 into the calling thread's copy.
  struct Rows {
    bfgemm::PackedA a;
    void set(const float* p, int64_t rows, int64_t k, int64_t row_stride) {
      a.pack(bfgemm::f32_operand(p, row_stride), rows, k);
    }
    void set(const uint16_t* p, int64_t rows, int64_t k, int64_t row_stride) {
      a.pack(bfgemm::bf16_operand(p, row_stride), rows, k);
    }
  };
  static void pack(Weights& w, const float* src, int64_t ld, bool trans, int64_t p0, int64_t p1) {
    w.pack(bfgemm::f32_operand(src, ld, trans), p0, p1);
  }
  static void pack(Weights& w, const uint16_t* src, int64_t ld, bool trans, int64_t p0, int64_t p1) {
    w.pack(bfgemm::bf16_operand(src, ld, trans), p0, p1);
  }
  // bfloat16 copies of the backward pass's gate gradients, rounded once (by the thread that owns the
  // columns, copy()) for the three GEMMs that read them (dh_{t-1}, dx, the weight gradients) and kept
  // for the last `ring` steps only (step s in slot s % ring: a chunk of steps aligned to a divisor
  // of ring lies in consecutive slots).
  struct Grads {
    std::vector<uint16_t> hb, xb;  // xb: GRU reset_after only (dgx differs from dgh)
    const float *dgh, *dgx;
    int64_t per_step, ring;
    Grads(const float* h, const float* x, int64_t batch, int64_t gu, int64_t ring_steps)
        : hb(size_t(ring_steps * batch * gu)),
          xb(x != h ? size_t(ring_steps * batch * gu) : 0),
          dgh(h),
          dgx(x),
          per_step(batch * gu),
          ring(ring_steps) {}
    // Elements [c0, c1) of step `step` (offsets from the step's first row).
    void copy(int64_t step, int64_t c0, int64_t c1) {
      const int64_t from = step * per_step + c0, to = (step % ring) * per_step + c0;
      float_to_bf16_ftz(dgh + from, reinterpret_cast<bf16*>(hb.data()) + to, c1 - c0);
      if (split()) float_to_bf16_ftz(dgx + from, reinterpret_cast<bf16*>(xb.data()) + to, c1 - c0);
    }
    const uint16_t* h(int64_t step) const { return hb.data() + (step % ring) * per_step; }
    const uint16_t* x(int64_t step) const { return (split() ? xb : hb).data() + (step % ring) * per_step; }
    bool split() const { return !xb.empty(); }
  };
  static void panels(const Weights& w, int64_t p0, int64_t p1, const Rows& a, float* c, int64_t ldc, bool acc) {
    bfgemm::gemm_panels(w, p0, p1, a.a, c, ldc, acc);
  }
  static void panels_into(const Weights& w, int64_t p0, int64_t p1, const Rows& a, float* c, int64_t ldc, bool acc) {
    bfgemm::gemm_panels_into(w, p0, p1, a.a, c, ldc, acc);
  }
  static void gemm_packed_b(bool ta, int64_t m, const float* a, int64_t lda, const Weights& b, float* c, int64_t ldc,
                            bool acc) {
    thread_local bfgemm::PackedA rows;
    rows.pack(bfgemm::f32_operand(a, lda, ta), m, b.k());
    bfgemm::gemm_panels(b, 0, b.panels(), rows, c, ldc, acc);
  }
};

}  // namespace kcore::rnn_cpu
