#include "tenx/train/dev_eval.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <span>

#include "tenx/model/decoder.hpp"
#include "tenx/model/generation.hpp"
#include "tenx/model/sequence_scheduler.hpp"
#include "tenx/suites/agentic.hpp"
#include "tenx/suites/answer.hpp"
#include "tenx/util/error.hpp"

namespace tenx::train {

namespace {

constexpr const char* kResultTag = "<result>";

// A task's result kept where the caller reads it once the scheduler has run the task.
template <class T>
Task<void> store(Task<T> task, std::optional<T>& out) {
  out.emplace(co_await std::move(task));
}

// [bos] text, the image (if any, and a projector) in place of its marker.
struct Prompt {
  std::vector<int32_t> ids;
  MultimodalPrompt mm;
  std::vector<const float*> rows;  // empty: text only
};

Prompt make_prompt(ExecContext& ctx, const Tokenizer& tok, const VisionProjector* projector, const std::string& text,
                   const std::optional<suites::Image>& image) {
  Prompt p;
  p.ids.push_back(tok.bos_id() >= 0 ? tok.bos_id() : tok.eos_id());  // as the trainer's documents start
  if (projector && image) {
    const ImagePixels px{image->h, image->w, image->c, image->max, image->pixels};
    p.mm = build_multimodal_prompt(ctx, tok, projector, text, std::span<const ImagePixels>(&px, 1), false);
    p.ids.insert(p.ids.end(), p.mm.ids.begin(), p.mm.ids.end());
    p.rows.push_back(nullptr);
    for (const float* r : p.mm.row_pointers()) p.rows.push_back(r);
  } else {
    for (int32_t id : tok.encode(text, false, false)) p.ids.push_back(id);
  }
  return p;
}

int64_t context_limit(const Model& model) {
  return model.config.n_ctx_train > 0 ? model.config.n_ctx_train : std::numeric_limits<int64_t>::max();
}

// One task on a one-sequence scheduler: the model-level functions tenx run's items use.
template <class T>
T run_alone(SequenceScheduler& s, Task<T> task) {
  std::optional<T> out;
  s.run(1, [&](size_t, int32_t) -> Task<void> { return store(std::move(task), out); }, {});
  return std::move(*out);
}

bool choice_correct(ExecContext& ctx, const Model& model, const Tokenizer& tok, const VisionProjector* projector,
                    const suites::Item& item) {
  const suites::ChoiceBody& c = item.choice();
  Prompt p = make_prompt(ctx, tok, projector, c.context, item.image);
  std::vector<std::vector<int32_t>> conts;
  size_t longest = 0;
  for (const std::string& s : c.choices) {
    conts.push_back(tok.encode(s, false, false));
    longest = std::max(longest, conts.back().size());
  }
  const auto n = static_cast<int64_t>(p.ids.size());
  const int64_t need = n + static_cast<int64_t>(longest);
  if (need > context_limit(model)) return false;  // does not fit the model's context: not answered
  Decoder dec(model, need, 1, 512);
  SequenceScheduler sched(dec, ctx);
  const ContinuationScores scores =
      run_alone(sched, score_continuations(sched, 0, std::move(p.ids), std::move(p.rows), std::move(conts)));
  int best = -1;
  double best_ll = -std::numeric_limits<double>::infinity();
  for (size_t k = 0; k < scores.loglik.size(); ++k)
    if (best < 0 || scores.loglik[k] > best_ll) {
      best = static_cast<int>(k);
      best_ll = scores.loglik[k];
    }
  return best == c.gold;
}

// Greedy text from `p` until an end-of-generation token, max_tokens, or one of `stop` appears in
// the decoded text.
std::string greedy_text(ExecContext& ctx, const Model& model, const Tokenizer& tok, Prompt p, int max_tokens,
                        const std::vector<std::string>& stop) {
  const int64_t need = static_cast<int64_t>(p.ids.size()) + max_tokens;
  const int64_t limit = context_limit(model);
  if (static_cast<int64_t>(p.ids.size()) >= limit || p.ids.empty()) return {};
  Decoder dec(model, std::min(need, limit), 1, 512);
  SequenceScheduler sched(dec, ctx);
  const int64_t budget = std::min<int64_t>(max_tokens, limit - static_cast<int64_t>(p.ids.size()));
  const GreedyText g = run_alone(
      sched, prefill_then_greedy(sched, 0, tok, std::move(p.ids), std::move(p.rows), budget, StopStrings(stop)));
  return tok.decode(g.ids);
}

std::string trim(std::string_view s) {
  const auto ws = [](char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; };
  while (!s.empty() && ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && ws(s.back())) s.remove_suffix(1);
  return std::string(s);
}

// The gold trajectory's first model turn: its text before the first "<result>".
std::string first_turn(std::string_view text) { return trim(text.substr(0, text.find(kResultTag))); }

bool agent_correct(ExecContext& ctx, const Model& model, const Tokenizer& tok, const VisionProjector* projector,
                   const suites::Item& item) {
  const auto it = item.meta.find("trajectory");
  if (it == item.meta.end() || !it->is_string()) throw Error(item.id, "agent item has no meta.trajectory");
  const std::string gold = first_turn(it->get<std::string>());
  Prompt p = make_prompt(ctx, tok, projector, suites::render_agent_prompt(item.agent()), item.image);
  const int max_tokens = static_cast<int>(tok.encode(gold, false, false).size()) + 8;
  return first_turn(greedy_text(ctx, model, tok, std::move(p), max_tokens, {kResultTag})) == gold;
}

}  // namespace

std::vector<const suites::Item*> dev_items_of(const SuiteTexts& suite, int64_t items_per_task) {
  std::vector<const suites::Item*> out;
  std::map<std::string, int64_t> taken;
  for (const TextExample& ex : suite.dev) {
    if (!ex.item) throw Error(suite.name, "a dev example carries no item (not loaded by load_suite_texts)");
    int64_t& n = taken[ex.item->task];
    if (n >= items_per_task) continue;
    ++n;
    out.push_back(ex.item.get());
  }
  return out;
}

bool dev_item_correct(ExecContext& ctx, const Model& model, const Tokenizer& tokenizer,
                      const VisionProjector* projector, const suites::Item& item) {
  switch (item.type()) {
    case suites::ItemType::choice: return choice_correct(ctx, model, tokenizer, projector, item);
    case suites::ItemType::generate: {
      const suites::GenerateBody& g = item.generate();
      Prompt p = make_prompt(ctx, tokenizer, projector, g.prompt, item.image);
      return suites::generate_matches(g, greedy_text(ctx, model, tokenizer, std::move(p), g.max_tokens, g.stop));
    }
    case suites::ItemType::agent: return agent_correct(ctx, model, tokenizer, projector, item);
  }
  return false;
}

std::vector<DevTaskAccuracy> evaluate_dev(ExecContext& ctx, const Model& model, const VisionProjector* projector,
                                          const std::vector<SuiteTexts>& texts, int64_t items_per_task) {
  const Tokenizer tok = Tokenizer::from_metadata(model.file.meta, "model");
  std::vector<DevTaskAccuracy> out;
  for (const SuiteTexts& st : texts) {
    std::map<std::string, DevTaskAccuracy> per_task;
    for (const suites::Item* item : dev_items_of(st, items_per_task)) {
      DevTaskAccuracy& t = per_task[item->task];
      t.type = item->type();
      ++t.items;
      if (dev_item_correct(ctx, model, tok, projector, *item)) ++t.correct;
    }
    for (const suites::TaskInfo& info : st.tasks) {
      const auto it = per_task.find(info.name);
      if (it == per_task.end()) continue;
      DevTaskAccuracy t = it->second;
      t.suite = st.name;
      t.task = info.name;
      t.chance = info.chance;
      t.references = info.references;
      out.push_back(std::move(t));
    }
  }
  return out;
}

nlohmann::ordered_json dev_accuracy_json(const std::vector<DevTaskAccuracy>& results) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const DevTaskAccuracy& t : results) j[t.key()] = t.accuracy();
  return j;
}

std::vector<DevSuiteSummary> summarise_dev(const std::vector<DevTaskAccuracy>& results) {
  std::vector<DevSuiteSummary> out;
  for (const DevTaskAccuracy& t : results) {
    if (out.empty() || out.back().suite != t.suite) out.push_back({t.suite, 0, 0, 0});
    DevSuiteSummary& s = out.back();
    s.items += t.items;
    s.accuracy += static_cast<double>(t.correct);
    s.chance += t.chance * static_cast<double>(t.items);
    s.chance_sd += t.chance * (1.0 - t.chance) * static_cast<double>(t.items);  // variance sum for now
  }
  for (DevSuiteSummary& s : out)
    if (s.items > 0) {
      s.accuracy /= static_cast<double>(s.items);
      s.chance /= static_cast<double>(s.items);
      s.chance_sd = std::sqrt(s.chance_sd) / static_cast<double>(s.items);
    }
  return out;
}

double DevSuiteSummary::z() const {
  const double diff = accuracy - chance;
  if (chance_sd > 0) return diff / chance_sd;
  return diff > 0 ? std::numeric_limits<double>::infinity() : 0.0;
}

}  // namespace tenx::train
