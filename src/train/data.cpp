#include "tenx/train/data.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "tenx/suites/agentic.hpp"
#include "tenx/suites/suite_io.hpp"
#include "tenx/util/error.hpp"
#include "tenx/util/rng.hpp"

namespace tenx::train {

namespace {

TextExample render_text(const suites::Item& item) {
  switch (item.type()) {
    case suites::ItemType::choice: {
      const auto& c = item.choice();
      return {c.context, c.choices.at(static_cast<size_t>(c.gold)), nullptr, nullptr};
    }
    case suites::ItemType::generate: {
      const auto& g = item.generate();
      const std::string& target = g.targets.at(0);
      const bool spaced = g.prompt.empty() || g.prompt.back() == ' ' || g.prompt.back() == '\n';
      return {g.prompt, (spaced ? "" : " ") + target + (g.stop.empty() ? "" : g.stop.front()), nullptr, nullptr};
    }
    case suites::ItemType::agent: {
      const auto& a = item.agent();
      const auto it = item.meta.find("trajectory");
      if (it == item.meta.end() || !it->is_string())
        throw Error(item.id, "agent item has no meta.trajectory to train on");
      return {suites::render_agent_prompt(a), it->get<std::string>(), nullptr, nullptr};
    }
  }
  return {};
}

}  // namespace

TextExample render_item(const suites::Item& item) {
  TextExample ex = render_text(item);
  if (item.image) ex.image = std::make_shared<const suites::Image>(*item.image);
  return ex;
}

std::vector<SuiteTexts> load_suite_texts(const Recipe& recipe, const std::filesystem::path& suites_dir) {
  std::vector<SuiteTexts> out;
  for (const RecipeSuite& rs : recipe.suites) {
    const std::filesystem::path dir = suites::resolve_suite(rs.suite, suites_dir);
    const suites::Suite suite = suites::load_suite(dir);
    const std::vector<suites::Item>& items = suite.split(recipe.split);
    for (const std::string& t : rs.tasks)
      if (!suite.info.find_task(t))
        throw Error(recipe.path, fmt::format("suite '{}' has no task '{}'", rs.suite, t));
    const std::set<std::string> tasks(rs.tasks.begin(), rs.tasks.end());
    SuiteTexts st;
    st.name = suite.info.name;
    st.weight = rs.weight;
    st.tasks = suite.info.tasks;
    int64_t kept = 0;
    for (const suites::Item& item : items) {
      if (!tasks.empty() && !tasks.contains(item.task)) continue;
      if (rs.max_items > 0 && kept >= rs.max_items) break;
      ++kept;
      // Held out by a hash of (seed, id): stable when items are added or reordered.
      Rng r = Rng::derive(recipe.seed, "dev/" + st.name + "/" + item.id);
      if (r.unit() < recipe.dev_fraction) {
        st.dev.push_back(render_item(item));
        st.dev.back().item = std::make_shared<const suites::Item>(item);
      } else {
        st.train.push_back(render_item(item));
      }
    }
    if (st.train.empty())
      throw Error(recipe.path, fmt::format("suite '{}' gives no training items (split '{}', tasks {})", rs.suite,
                                           recipe.split, rs.tasks.empty() ? "all" : fmt::format("{}", fmt::join(rs.tasks, ", "))));
    out.push_back(std::move(st));
  }
  return out;
}

std::vector<SuiteDocs> tokenize_suites(ExecContext& ctx, const std::vector<SuiteTexts>& texts, const Tokenizer& tok,
                                       const VisionConfig* vision) {
  const int32_t bos = tok.bos_id() >= 0 ? tok.bos_id() : tok.eos_id();
  const int32_t eos = tok.eos_id();
  if (eos < 0) throw Error("tokenizer", "the vocabulary has no end-of-text token");
  auto encode = [&](const TextExample& ex, const std::string& suite) {
    Document d;
    d.ids.push_back(bos);
    if (vision && ex.image) {
      const suites::Image& im = *ex.image;
      PatchGrid grid;
      try {
        grid = image_to_patches(ImagePixels{im.h, im.w, im.c, im.max, im.pixels}, *vision);
      } catch (const Error& e) {
        throw Error(suite, fmt::format("an item's image does not fit the recipe's vision block: {}", e.what()));
      }
      if (count_image_markers(ex.prompt) != 1)
        throw Error(suite, "an item with an image must hold exactly one <image> marker in its prompt");
      const int64_t n_patches = grid.n_patches();
      const ExpandedText e = expand_image_markers(tok, ex.prompt, std::span<const int64_t>(&n_patches, 1), false);
      d.patch.push_back(-1);
      for (size_t i = 0; i < e.ids.size(); ++i) {
        d.ids.push_back(e.ids[i]);
        d.patch.push_back(e.patch[i]);
      }
      d.n_prompt = static_cast<int64_t>(d.ids.size());
      for (int32_t id : tok.encode(ex.answer, false, false)) d.ids.push_back(id);
      d.ids.push_back(eos);
      d.patch.resize(d.ids.size(), -1);
      d.features = std::move(grid.features);
      d.patch_position = std::move(grid.position_index);
      d.patch_dim = vision->patch_dim();
      return d;
    }
    for (int32_t id : tok.encode(ex.prompt, false, false)) d.ids.push_back(id);
    d.n_prompt = static_cast<int64_t>(d.ids.size());
    for (int32_t id : tok.encode(ex.answer, false, false)) d.ids.push_back(id);
    d.ids.push_back(eos);
    return d;
  };
  std::vector<SuiteDocs> out;
  for (const SuiteTexts& st : texts) {
    SuiteDocs sd;
    sd.name = st.name;
    sd.weight = st.weight;
    for (auto split : {std::pair{&st.train, &sd.train}, {&st.dev, &sd.dev}}) {
      // Named members, not a structured binding: clang 14 cannot capture bindings in the lambda.
      const auto* src = split.first;
      auto* dst = split.second;
      dst->resize(src->size());
      ctx.pool.parallel_for(static_cast<int64_t>(src->size()),
                            [&](int64_t i, int) { (*dst)[static_cast<size_t>(i)] = encode((*src)[static_cast<size_t>(i)], st.name); });
    }
    out.push_back(std::move(sd));
  }
  return out;
}

DataMixture::DataMixture(std::vector<SuiteDocs> suites, LossMask mask, uint64_t seed, int32_t pad_id)
    : suites_(std::move(suites)), mask_(mask), seed_(seed), pad_id_(pad_id) {
  size_t longest = 0;
  for (const SuiteDocs& s : suites_) longest = std::max(longest, s.dev.size());
  for (size_t i = 0; i < longest; ++i)
    for (size_t s = 0; s < suites_.size(); ++s)
      if (i < suites_[s].dev.size()) dev_order_.emplace_back(s, i);
}

size_t DataMixture::n_train() const {
  size_t n = 0;
  for (const SuiteDocs& s : suites_) n += s.train.size();
  return n;
}

int64_t DataMixture::place(Batch& b, int64_t row, int64_t filled, const Document& doc) const {
  const int64_t L = b.L;
  const auto n = static_cast<int64_t>(doc.ids.size());
  const int64_t start = std::max<int64_t>(0, n - 1 - (L - filled));  // keep the end (the answer)
  const int64_t used = n - 1 - start;
  for (int64_t i = 0; i < used; ++i) {
    const int64_t t = row * L + filled + i;
    const int64_t src = start + i;
    b.tokens[t] = doc.ids[static_cast<size_t>(src)];
    b.targets[t] = doc.ids[static_cast<size_t>(src + 1)];
    b.pos[t] = static_cast<int32_t>(i);
    b.doc_start[t] = static_cast<int32_t>(filled);
    b.weight[t] = mask_ == LossMask::All || src + 1 >= doc.n_prompt ? 1.0f : 0.0f;
    if (doc.patch.empty()) continue;
    // Image positions: input from the projector, never a target (nothing to predict).
    const int32_t patch = doc.patch[static_cast<size_t>(src)];
    if (patch >= 0) {
      b.patch_row[t] = static_cast<int32_t>(b.n_patches());
      b.patch_dim = doc.patch_dim;
      const auto* f = doc.features.data() + patch * doc.patch_dim;
      b.patch_features.insert(b.patch_features.end(), f, f + doc.patch_dim);
      b.patch_position.push_back(doc.patch_position[static_cast<size_t>(patch)]);
    }
    if (patch >= 0 || doc.patch[static_cast<size_t>(src + 1)] >= 0) b.weight[t] = 0.0f;
  }
  return used;
}

void DataMixture::pad(Batch& b, int64_t row, int64_t filled) const {
  for (int64_t i = filled; i < b.L; ++i) {
    const int64_t t = row * b.L + i;
    b.tokens[t] = b.targets[t] = pad_id_;
    b.pos[t] = static_cast<int32_t>(i - filled);
    b.doc_start[t] = static_cast<int32_t>(filled);
    b.weight[t] = 0.0f;
  }
}

int64_t DataMixture::fill(Batch& b, int64_t step, int64_t B, int64_t L) const {
  b.resize(B, L);
  double total = 0;
  for (const SuiteDocs& s : suites_) total += s.train.empty() ? 0 : s.weight;
  int64_t tokens = 0;
  for (int64_t row = 0; row < B; ++row) {
    Rng rng = Rng::derive(seed_, fmt::format("batch/{}/{}", step, row));
    int64_t filled = 0;
    for (int misses = 0; filled < L && misses < 3;) {
      double u = rng.unit() * total;
      size_t s = 0;
      while (s + 1 < suites_.size() && (suites_[s].train.empty() || u >= suites_[s].weight)) {
        if (!suites_[s].train.empty()) u -= suites_[s].weight;
        ++s;
      }
      const auto& docs = suites_[s].train;
      const Document& doc = docs[static_cast<size_t>(rng.below(docs.size()))];
      if (filled > 0 && static_cast<int64_t>(doc.ids.size()) - 1 > L - filled) {
        ++misses;  // does not fit: try another, then give up and pad
        continue;
      }
      filled += place(b, row, filled, doc);
    }
    tokens += filled;
    pad(b, row, filled);
  }
  return tokens;
}

int64_t DataMixture::fill_dev(Batch& b, int64_t index, int64_t B, int64_t L) const {
  b.resize(B, L);
  int64_t tokens = 0;
  if (dev_order_.empty()) return 0;
  // Each row takes the next dev documents that fit, cycling through the list.
  size_t cursor = static_cast<size_t>(index * B * 2) % dev_order_.size();
  for (int64_t row = 0; row < B; ++row) {
    int64_t filled = 0;
    while (filled < L) {
      const auto [s, i] = dev_order_[cursor];
      const Document& doc = suites_[s].dev[i];
      if (filled > 0 && static_cast<int64_t>(doc.ids.size()) - 1 > L - filled) break;
      filled += place(b, row, filled, doc);
      cursor = (cursor + 1) % dev_order_.size();
    }
    tokens += filled;
    pad(b, row, filled);
  }
  return tokens;
}

}  // namespace tenx::train
