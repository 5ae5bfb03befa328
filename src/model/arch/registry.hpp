#pragma once
// Internal: the families' definitions, each from its own file (one line per family in
// registry.cpp).
#include "tenx/model/arch.hpp"

namespace tenx::arch {

extern const Family kLlama;
extern const Family kQwen2;
extern const Family kQwen3;
extern const Family kQwen3Moe;
extern const Family kGemma2;
extern const Family kGemma3;
extern const Family kMuseGlimmer;
extern const Family kLlama4;

}  // namespace tenx::arch
