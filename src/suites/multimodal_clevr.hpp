#pragma once
// Sort-of-CLEVR scenes for the multimodal suite (multimodal_clevr.cpp).
#include "tenx/suites/generator.hpp"

namespace tenx::suites {

// Adds the five CLEVR tasks (shape, colour, closest, furthest, count) to suite.splits and
// suite.info.tasks. Scenes: 5 objects of distinct colours on a 4x4 grid of 3x3-pixel cells
// (a 12x12 RGB image, values 0/1, max 1); the scene is stored in each item's meta.
void add_clevr(const BuildContext& ctx, GeneratedSuite& suite);

}  // namespace tenx::suites
