#include "ops/norm.h"
#include "python/bindings.h"

using namespace kcore;
using namespace kcore::python;

// clang-format off
#define KCORE_NORM_OPS(X) \
  X(batch_norm_train) X(batch_norm_infer) X(batch_norm_backward) X(layer_norm) X(layer_norm_backward)
// clang-format on

KCORE_BINDINGS(norm) { KCORE_NORM_OPS(KCORE_DEF_KERNEL) }
