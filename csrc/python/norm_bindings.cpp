#include "ops/norm.h"
#include "python/bindings.h"

using namespace kcore;
using namespace kcore::python;

KCORE_BINDINGS(norm) {
  m.def("batch_norm_train", &batch_norm_train, Kernel());
  m.def("batch_norm_infer", &batch_norm_infer, Kernel());
  m.def("batch_norm_backward", &batch_norm_backward, Kernel());
  m.def("layer_norm", &layer_norm, Kernel());
  m.def("layer_norm_backward", &layer_norm_backward, Kernel());
}
