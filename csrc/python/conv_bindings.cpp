// Bindings of convolution and pooling (no arithmetic here). Python passes the geometry as flat
// lists; each binding only packs them into ConvArgs / PoolArgs for the op's entry point.
#include "core/checked.h"
#include "ops/conv.h"
#include "ops/pool.h"
#include "python/bindings.h"

using namespace kcore;
using namespace kcore::python;

namespace {
using Ints = Shape;  // strides, dilations, paddings: short int lists, held inline like shapes

ConvArgs conv_args(const Ints& strides, const Ints& dilation, const Ints& pad_before, const Ints& pad_after,
                   int64_t groups = 1) {
  return ConvArgs{strides, dilation, pad_before, pad_after, groups};
}
}  // namespace

KCORE_BINDINGS(conv) {
  m.def(
      "conv",
      [](const Tensor& x, const Tensor& kernel, const OptionalTensor& bias, const Ints& strides, const Ints& dilation,
         const Ints& pad_before, const Ints& pad_after, int64_t groups) {
        return float_compute_if_mixed(conv_forward, x, kernel, bias,
                                      conv_args(strides, dilation, pad_before, pad_after, groups));
      },
      py::arg("x"), py::arg("kernel"), py::arg("bias"), py::arg("strides"), py::arg("dilation"), py::arg("pad_before"),
      py::arg("pad_after"), py::arg("groups") = 1, Kernel());
  m.def(
      "conv_backward",
      [](const Tensor& x, const Tensor& kernel, const Tensor& grad, const Ints& strides, const Ints& dilation,
         const Ints& pad_before, const Ints& pad_after, bool need_x, bool need_kernel, bool need_bias, int64_t groups) {
        return float_compute_if_mixed(conv_backward, x, kernel, grad,
                                      conv_args(strides, dilation, pad_before, pad_after, groups), need_x, need_kernel,
                                      need_bias);
      },
      py::arg("x"), py::arg("kernel"), py::arg("grad"), py::arg("strides"), py::arg("dilation"), py::arg("pad_before"),
      py::arg("pad_after"), py::arg("need_x"), py::arg("need_kernel"), py::arg("need_bias"), py::arg("groups") = 1,
      Kernel());
  m.def(
      "conv_transpose",
      [](const Tensor& x, const Tensor& kernel, const OptionalTensor& bias, const Shape& out_spatial,
         const Ints& strides, const Ints& dilation, const Ints& pad_before, const Ints& pad_after) {
        return float_compute(conv_transpose, x, kernel, bias, out_spatial,
                             conv_args(strides, dilation, pad_before, pad_after));
      },
      py::arg("x"), py::arg("kernel"), py::arg("bias"), py::arg("out_spatial"), py::arg("strides"), py::arg("dilation"),
      py::arg("pad_before"), py::arg("pad_after"), Kernel());
  m.def(
      "conv_transpose_backward",
      [](const Tensor& x, const Tensor& kernel, const Tensor& grad, const Ints& strides, const Ints& dilation,
         const Ints& pad_before, const Ints& pad_after, bool need_x, bool need_kernel, bool need_bias) {
        return float_compute(conv_transpose_backward, x, kernel, grad,
                             conv_args(strides, dilation, pad_before, pad_after), need_x, need_kernel, need_bias);
      },
      py::arg("x"), py::arg("kernel"), py::arg("grad"), py::arg("strides"), py::arg("dilation"), py::arg("pad_before"),
      py::arg("pad_after"), py::arg("need_x"), py::arg("need_kernel"), py::arg("need_bias"), Kernel());
  m.def(
      "conv_output_shape",
      [](const Shape& x, const Shape& k, const Ints& strides, const Ints& dilation, const Ints& pad_before,
         const Ints& pad_after, int64_t groups) {
        OpScope scope("conv_output_shape");
        return conv_output_shape(x, k, conv_args(strides, dilation, pad_before, pad_after, groups));
      },
      py::arg("x_shape"), py::arg("kernel_shape"), py::arg("strides"), py::arg("dilation"), py::arg("pad_before"),
      py::arg("pad_after"), py::arg("groups") = 1);
  m.def(
      "conv_workspace_bytes",
      [](const Shape& x, const Shape& k, const Ints& strides, const Ints& dilation, const Ints& pad_before,
         const Ints& pad_after, int64_t itemsize, int64_t groups) {
        OpScope scope("conv_workspace_bytes");
        return conv_workspace_bytes(x, k, conv_args(strides, dilation, pad_before, pad_after, groups), itemsize);
      },
      py::arg("x_shape"), py::arg("kernel_shape"), py::arg("strides"), py::arg("dilation"), py::arg("pad_before"),
      py::arg("pad_after"), py::arg("itemsize") = 4, py::arg("groups") = 1);
  m.def("conv_set_workspace_limit", &conv_set_workspace_limit, py::arg("bytes"));
  m.def("conv_workspace_limit", &conv_workspace_limit);
  m.def("conv_set_winograd", &conv_set_winograd, py::arg("enabled"));
  m.def("conv_winograd", &conv_winograd);
  m.def("conv_set_winograd_variant", &conv_set_winograd_variant, py::arg("variant"));
  m.def("conv_winograd_variant", &conv_winograd_variant);
  m.def("conv_set_sliding_rows", &conv_set_sliding_rows, py::arg("enabled"));
  m.def("conv_sliding_rows", &conv_sliding_rows);
}

KCORE_BINDINGS(pool) {
  py::enum_<PoolMode>(m, "PoolMode").value("max", PoolMode::max).value("average", PoolMode::average);
  m.def(
      "pool",
      [](const Tensor& x, PoolMode mode, const Ints& pool_size, const Ints& strides, const Ints& pad_before,
         const Ints& pad_after) {
        return float_compute(pool_forward, x, mode, PoolArgs{pool_size, strides, pad_before, pad_after});
      },
      py::arg("x"), py::arg("mode"), py::arg("pool_size"), py::arg("strides"), py::arg("pad_before"),
      py::arg("pad_after"), Kernel());
  m.def(
      "pool_backward",
      [](const Tensor& grad, const OptionalTensor& argmax, const Shape& x_shape, PoolMode mode, const Ints& pool_size,
         const Ints& strides, const Ints& pad_before, const Ints& pad_after) {
        return float_compute(pool_backward, grad, argmax, x_shape, mode,
                             PoolArgs{pool_size, strides, pad_before, pad_after});
      },
      py::arg("grad"), py::arg("argmax"), py::arg("x_shape"), py::arg("mode"), py::arg("pool_size"), py::arg("strides"),
      py::arg("pad_before"), py::arg("pad_after"), Kernel());
}
