// The CUDA implementations, in kcore::cuda with exactly the signatures of ops/*.h, and the
// table that hands them to the engine (filled in module.cpp).
#pragma once
#include "core/dispatch.h"

namespace kcore::cuda {

// Storage plumbing (tensor_ops.cu).
void fill(Tensor& t, double value);
void copy(Tensor& dst, const Tensor& src);
Tensor astype(const Tensor& x, DType dtype);

// elementwise.cu
// NumPy broadcasting of two shapes. The engine's kcore::broadcast_shapes lives in
// cpu/elementwise.cpp, which this module does not link; same rules and messages.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);
Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b);
std::pair<Tensor, Tensor> binary_backward(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& grad,
                                          bool need_a, bool need_b);
Tensor unary(UnaryOp op, const Tensor& x, double alpha);
Tensor unary_backward(UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& grad, double alpha);
Tensor clip(const Tensor& x, double lo, double hi);
Tensor clip_backward(const Tensor& x, const Tensor& grad, double lo, double hi);
Tensor sum_to_shape(const Tensor& grad, const Shape& shape);
Tensor broadcast_to(const Tensor& x, const Shape& shape);
Tensor scale(const Tensor& x, double s);
bool has_nonfinite(const Tensor& x);

// compare.cu
Tensor compare(CompareOp op, const Tensor& a, const Tensor& b);
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);

// reduce.cu
Tensor reduce(ReduceOp op, const Tensor& x, std::vector<int64_t> axes, bool keepdims);
Tensor reduce_backward(ReduceOp op, const Tensor& x, const Tensor& y, const Tensor& grad,
                       std::vector<int64_t> axes, bool keepdims);
Tensor argmax(const Tensor& x, int64_t axis, bool keepdims);
Tensor softmax(const Tensor& x, int64_t axis, bool log);
Tensor softmax_backward(const Tensor& y, const Tensor& grad, int64_t axis, bool log);

// linalg.cu (cuBLAS)
Tensor matmul(const Tensor& a, const Tensor& b);
std::pair<Tensor, Tensor> matmul_backward(const Tensor& a, const Tensor& b, const Tensor& grad, bool need_a,
                                          bool need_b);
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias);
std::tuple<Tensor, Tensor, Tensor> linear_backward(const Tensor& x, const Tensor& w, const Tensor& grad, bool need_x,
                                                   bool need_bias);
Tensor sum_rows(const Tensor& x2d);
void set_allow_tf32(bool allow);
bool allow_tf32();

// loss.cu
Tensor softmax_cross_entropy(const Tensor& logits, const Tensor& targets);
Tensor softmax_cross_entropy_backward(const Tensor& logits, const Tensor& targets, const Tensor& grad);
Tensor sparse_softmax_cross_entropy(const Tensor& logits, const Tensor& labels);
Tensor sparse_softmax_cross_entropy_backward(const Tensor& logits, const Tensor& labels, const Tensor& grad);
Tensor sigmoid_cross_entropy(const Tensor& logits, const Tensor& targets);
Tensor sigmoid_cross_entropy_backward(const Tensor& logits, const Tensor& targets, const Tensor& grad);
Tensor mean_error(ErrorKind kind, const Tensor& pred, const Tensor& target);
Tensor mean_error_backward(ErrorKind kind, const Tensor& pred, const Tensor& target, const Tensor& grad);

// norm.cu
std::tuple<Tensor, Tensor, Tensor> batch_norm_train(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                                    int64_t axis, double eps);
Tensor batch_norm_infer(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& mean,
                        const Tensor& var, int64_t axis, double eps);
std::tuple<Tensor, Tensor, Tensor> batch_norm_backward(const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                                       const Tensor& var, const Tensor& grad, int64_t axis,
                                                       double eps, bool training);
std::tuple<Tensor, Tensor, Tensor> layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                              int64_t norm_size, double eps);
std::tuple<Tensor, Tensor, Tensor> layer_norm_backward(const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                                       const Tensor& inv_std, const Tensor& grad, int64_t norm_size);

// optim.cu
void sgd_update(Tensor& w, const Tensor& g, Tensor& m, double lr, double momentum, bool nesterov);
void adam_update(Tensor& w, const Tensor& g, Tensor& m, Tensor& v, Tensor& vhat, double lr, double beta1,
                 double beta2, double eps, int64_t step);
void rmsprop_update(Tensor& w, const Tensor& g, Tensor& v, Tensor& avg, Tensor& mom, double lr, double rho,
                    double momentum, double eps);
void adagrad_update(Tensor& w, const Tensor& g, Tensor& acc, double lr, double eps);
void adadelta_update(Tensor& w, const Tensor& g, Tensor& eg, Tensor& edx, double lr, double rho, double eps);
void nadam_update(Tensor& w, const Tensor& g, Tensor& m, Tensor& v, double lr, double beta1, double beta2,
                  double eps, double c_m, double c_g, double bias2);
void adamax_update(Tensor& w, const Tensor& g, Tensor& m, Tensor& u, double lr, double beta1, double beta2,
                   double eps, int64_t step);

// random.cu
Tensor dropout_mask(const Shape& shape, double rate, uint64_t seed, DType dtype);
Tensor random_uniform(const Shape& shape, double lo, double hi, uint64_t seed, DType dtype);

// shape.cu
Tensor concatenate(const std::vector<Tensor>& xs, int64_t axis);
Tensor slice_backward(const Tensor& grad, const Shape& in_shape, const std::vector<int64_t>& start,
                      const std::vector<int64_t>& step);
Tensor take_rows(const Tensor& x, const Tensor& indices);
Tensor take_rows_backward(const Tensor& grad, const Tensor& indices, int64_t num_rows);

// conv.cu
Tensor conv_forward(const Tensor& x, const Tensor& kernel, const Tensor& bias, const ConvArgs& args);
std::tuple<Tensor, Tensor, Tensor> conv_backward(const Tensor& x, const Tensor& kernel, const Tensor& grad,
                                                 const ConvArgs& args, bool need_x, bool need_kernel,
                                                 bool need_bias);
Tensor conv_transpose(const Tensor& x, const Tensor& kernel, const Tensor& bias, const Shape& out_spatial,
                      const ConvArgs& args);
std::tuple<Tensor, Tensor, Tensor> conv_transpose_backward(const Tensor& x, const Tensor& kernel, const Tensor& grad,
                                                           const ConvArgs& args, bool need_x, bool need_kernel,
                                                           bool need_bias);
// The im2col buffer budget per call in bytes (default 256 MiB; at least one image is processed at once).
void conv_set_workspace_limit(int64_t bytes);
int64_t conv_workspace_limit();

// pool.cu
std::pair<Tensor, Tensor> pool_forward(const Tensor& x, PoolMode mode, const PoolArgs& args);
Tensor pool_backward(const Tensor& grad, const Tensor& argmax, const Shape& x_shape, PoolMode mode,
                     const PoolArgs& args);

// rnn.cu
RnnForward rnn_forward(const RnnConfig& cfg, const Tensor& x, const Tensor& kernel, const Tensor& recurrent_kernel,
                       const Tensor& bias, const Tensor& h0, const Tensor& c0, const Tensor& mask,
                       const Tensor& rec_mask);
RnnGrads rnn_backward(const RnnSaved& saved, const Tensor& kernel, const Tensor& recurrent_kernel,
                      const Tensor& grad_outputs, const Tensor& grad_h, const Tensor& grad_c, bool need_x);

// The table of everything above, for set_cuda_ops / the capsule.
const DeviceOps& kernel_table();

}  // namespace kcore::cuda
