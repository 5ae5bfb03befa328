// Compiled with the ops layer's include paths by the test Layers.ops_private_of_another_layer: must
// fail, the model layer's private headers are not visible to ops.
#include "model/tokenizer_impl.hpp"
