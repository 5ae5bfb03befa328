// The control of the Layers tests: with the same include paths, ops's own public and private
// headers and those of the layers below it compile.
#include "ops/quant_blocks.hpp"
#include "tenx/ops/kernels.hpp"
#include "tenx/tensor/dtype.hpp"
#include "tenx/util/error.hpp"
