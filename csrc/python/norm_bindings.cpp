#include "ops/norm.h"
#include "python/bindings.h"

using namespace kcore;
using namespace kcore::python;

#define KCORE_NORM_OPS(X) \
  X(batch_norm_train) X(batch_norm_infer) X(batch_norm_backward) X(layer_norm) X(layer_norm_backward)

KCORE_BINDINGS(norm) {
  KCORE_NORM_OPS(KCORE_DEF_KERNEL)
}
