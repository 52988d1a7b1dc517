#include "ops/norm.h"
#include "python/bindings.h"

using namespace kcore;
using namespace kcore::python;

KCORE_BINDINGS(norm) {
  KCORE_DEF(m, batch_norm_train, Kernel());
  KCORE_DEF(m, batch_norm_infer, Kernel());
  KCORE_DEF(m, batch_norm_backward, Kernel());
  KCORE_DEF(m, layer_norm, Kernel());
  KCORE_DEF(m, layer_norm_backward, Kernel());
}
