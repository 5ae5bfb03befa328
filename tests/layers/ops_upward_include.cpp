// Compiled with the ops layer's include paths by the test Layers.ops_upward_include: must fail, the
// header of a higher layer (eval) is not visible to ops.
#include "tenx/eval/run/runner.hpp"
