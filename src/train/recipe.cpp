#include "tenx/train/recipe.hpp"

#include <fmt/format.h>

#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "tenx/util/error.hpp"
#include "tenx/util/json_fields.hpp"
#include "tenx/util/read_file.hpp"
#include "tenx/util/sha256.hpp"

namespace tenx::train {

namespace {

using Json = JsonFields::Json;

// Reads the keys of one JSON object through util's JsonFields (one wording: "recipe.json:
// optimizer.lr: out of range: 20 not in [0, 10]"), refusing unknown keys (a typo must not be
// silently ignored) and values of the wrong type or range.
class Fields {
 public:
  Fields(const Json& j, std::string where, const std::string& path) : j_(j), where_(std::move(where)), fields_(path) {
    if (!j.is_object()) fields_.fail_always(where_.empty() ? "(top level)" : where_, JsonFields::wrong_type("an object", j));
  }
  ~Fields() noexcept(false) {
    if (std::uncaught_exceptions() > 0) return;
    for (const auto& [key, value] : j_.items())
      if (!used_.contains(key)) fail(key, "unknown field");
  }
  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    fields_.fail_always(key.empty() ? where_ : fields_.field(where_, key), what);
  }
  const Json* get(const std::string& key) {
    used_.insert(key);
    return fields_.member(j_, where_, key, JsonFields::Need::optional);
  }
  template <class I>
  void integer(const std::string& key, I& out, int64_t lo, int64_t hi) {
    used_.insert(key);
    if (const auto x = fields_.integer(j_, where_, key, JsonFields::Need::optional, lo, hi)) out = static_cast<I>(*x);
  }
  template <class F>
  void number(const std::string& key, F& out, double lo, double hi) {
    used_.insert(key);
    if (const auto x = fields_.number(j_, where_, key, JsonFields::Need::optional, lo, hi)) out = static_cast<F>(*x);
  }
  void string(const std::string& key, std::string& out) {
    used_.insert(key);
    if (const auto x = fields_.string(j_, where_, key, JsonFields::Need::optional)) out = *x;
  }

 private:
  const Json& j_;
  std::string where_;
  JsonFields fields_;
  std::set<std::string> used_;
};

constexpr int64_t kBig = int64_t{1} << 40;

}  // namespace

int64_t Recipe::total_steps() const {
  if (steps > 0) return steps;
  const int64_t per_step = batch * seq_len;
  return (tokens + per_step - 1) / per_step;
}

Recipe parse_recipe(const std::string& text, const std::string& path) {
  Json j;
  try {
    j = Json::parse(text);
  } catch (const Json::parse_error& e) {
    throw Error(path, fmt::format("not valid JSON: {}", e.what()));
  }
  Recipe r;
  r.path = path;
  Sha256 sha;
  sha.update(text);
  r.digest = sha.hex();
  Fields top(j, "", path);
  top.string("name", r.name);
  if (r.name.empty()) top.fail("name", "missing");
  top.integer("seed", r.seed, 0, std::numeric_limits<int64_t>::max());
  top.string("output", r.output);
  if (r.output.empty()) top.fail("output", "missing (the model's path)");
  top.string("log", r.log);

  const Json* model = top.get("model");
  if (!model) top.fail("model", "missing");
  {
    Fields m(*model, "model", path);
    m.integer("dim", r.dim, 2, 1 << 16);
    m.integer("layers", r.layers, 1, 1024);
    m.integer("heads", r.heads, 1, 1024);
    r.kv_heads = r.heads;
    m.integer("kv_heads", r.kv_heads, 1, 1024);
    m.integer("ffn", r.ffn, 1, 1 << 20);
    m.integer("vocab", r.vocab, 258, 1 << 20);
    m.integer("ctx", r.ctx, 1, 1 << 20);
    m.number("rope_base", r.rope_base, 1.0, 1e9);
    if (r.dim % r.heads != 0 || (r.dim / r.heads) % 2 != 0)
      m.fail("heads", fmt::format("dim {} must be heads {} times an even head size", r.dim, r.heads));
    if (r.heads % r.kv_heads != 0) m.fail("kv_heads", fmt::format("must divide heads {}", r.heads));
  }

  const Json* data = top.get("data");
  if (!data) top.fail("data", "missing");
  {
    Fields d(*data, "data", path);
    d.string("split", r.split);
    d.number("dev_fraction", r.dev_fraction, 0.0, 0.5);
    std::string mask = "answer";
    d.string("mask", mask);
    if (mask == "answer") r.mask = LossMask::Answer;
    else if (mask == "all") r.mask = LossMask::All;
    else d.fail("mask", fmt::format("'{}' is neither \"answer\" nor \"all\"", mask));
    const Json* suites = d.get("suites");
    if (!suites || !suites->is_array() || suites->empty()) d.fail("suites", "must be a non-empty list");
    for (size_t i = 0; i < suites->size(); ++i) {
      Fields s((*suites)[i], fmt::format("data.suites[{}]", i), path);
      RecipeSuite rs;
      s.string("suite", rs.suite);
      if (rs.suite.empty()) s.fail("suite", "missing");
      s.number("weight", rs.weight, 0.0, 1e9);
      s.integer("max_items", rs.max_items, 0, kBig);
      if (const Json* tasks = s.get("tasks")) {
        if (!tasks->is_array()) s.fail("tasks", "must be a list of task names");
        for (const Json& t : *tasks) {
          if (!t.is_string()) s.fail("tasks", "must be a list of task names");
          rs.tasks.push_back(t.get<std::string>());
        }
      }
      r.suites.push_back(std::move(rs));
    }
    double total = 0;
    for (const RecipeSuite& s : r.suites) total += s.weight;
    if (total <= 0) d.fail("suites", "the weights sum to 0");
  }

  const Json* opt = top.get("optimizer");
  if (!opt) top.fail("optimizer", "missing");
  {
    Fields o(*opt, "optimizer", path);
    o.number("lr", r.lr, 0.0, 10.0);
    o.number("min_lr_ratio", r.min_lr_ratio, 0.0, 1.0);
    o.integer("warmup", r.warmup, 0, kBig);
    o.integer("steps", r.steps, 0, kBig);
    o.integer("tokens", r.tokens, 0, kBig);
    o.integer("batch", r.batch, 1, 1 << 16);
    o.integer("seq_len", r.seq_len, 2, 1 << 16);
    o.number("weight_decay", r.weight_decay, 0.0, 10.0);
    o.number("clip", r.clip, 0.0, 1e9);
    o.number("beta1", r.beta1, 0.0, 0.999999);
    o.number("beta2", r.beta2, 0.0, 0.999999);
    if ((r.steps > 0) == (r.tokens > 0)) o.fail("steps", "give exactly one of steps and tokens");
    if (r.seq_len > r.ctx) o.fail("seq_len", fmt::format("{} exceeds the model's ctx {}", r.seq_len, r.ctx));
  }

  if (const Json* teacher = top.get("teacher")) {
    Fields t(*teacher, "teacher", path);
    t.string("model", r.teacher);
    if (r.teacher.empty()) t.fail("model", "missing (the teacher's path)");
    t.number("temperature", r.temperature, 1e-3, 1e3);
    t.number("alpha", r.alpha, 0.0, 1.0);
  }
  if (const Json* vision = top.get("vision")) {
    Fields v(*vision, "vision", path);
    r.vision = true;
    v.integer("patch", r.vision_patch, 1, 64);
    v.integer("max_grid", r.vision_max_grid, 1, 256);
  }
  if (const Json* eval = top.get("eval")) {
    Fields e(*eval, "eval", path);
    e.integer("every", r.eval_every, 0, kBig);
    e.integer("batches", r.eval_batches, 1, 1 << 20);
    e.integer("dev_items_per_task", r.eval_dev_items_per_task, 0, 1 << 20);
  }
  if (const Json* ck = top.get("checkpoint")) {
    Fields c(*ck, "checkpoint", path);
    c.integer("every", r.checkpoint_every, 0, kBig);
    c.string("path", r.checkpoint);
  }
  return r;
}

Recipe load_recipe(const std::string& path) {
  return parse_recipe(read_file(path, "the recipe"), path);
}

}  // namespace tenx::train
