#include "registry.hpp"

#include <fmt/format.h>

#include "tenx/util/error.hpp"

namespace tenx {
namespace {

// Adding a family: its file beside this one, its extern in registry.hpp, its line here.
const Family* const kFamilies[] = {&arch::kLlama, &arch::kQwen2, &arch::kQwen3, &arch::kQwen3Moe, &arch::kGemma2, &arch::kGemma3,
                                   &arch::kMuseGlimmer, &arch::kLlama4};

}  // namespace

const Family* find_family(const std::string& name) {
  for (const Family* f : kFamilies)
    if (f->name == name) return f;
  return nullptr;
}

const Family* find_hf_family(const std::string& model_type, const std::string& hf_architecture) {
  for (const std::string& key : {model_type, hf_architecture})
    for (const Family* f : kFamilies)
      for (const std::string& n : f->hf_names)
        if (!key.empty() && n == key) return f;
  return nullptr;
}

std::vector<std::string> family_list() {
  std::vector<std::string> out;
  for (const Family* f : kFamilies) out.push_back(f->name);
  return out;
}

std::string family_names() { return fmt::format("{}", fmt::join(family_list(), ", ")); }

const Family& family_of(const std::string& arch, const std::string& subject) {
  const Family* f = find_family(arch);
  if (!f) throw Error(subject, fmt::format("unsupported architecture '{}' (tenx runs {})", arch, family_names()));
  return *f;
}

}  // namespace tenx
