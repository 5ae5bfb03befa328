// JSON bodies of the completions and models endpoints. Token bytes that are not valid UTF-8
// (a byte-level token cut inside a character) are written as U+FFFD; text_offset counts the
// bytes of the raw text.
#include "tenx/serve/response.hpp"

#include "response_json.hpp"

#include <nlohmann/json.hpp>

namespace tenx::serve {
namespace {

using ojson = nlohmann::ordered_json;

std::string dump(const ojson& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

ojson logprobs_json(const SequenceResult& s) {
  ojson lp;
  lp["tokens"] = s.tokens;
  ojson values = ojson::array();
  for (const auto& v : s.token_logprobs) values.push_back(v ? ojson(*v) : ojson());
  lp["token_logprobs"] = std::move(values);
  ojson tops = ojson::array();
  for (const auto& t : s.top_logprobs) {
    if (!t) {
      tops.push_back(ojson());
      continue;
    }
    ojson o = ojson::object();
    for (const auto& [piece, value] : *t)
      if (!o.contains(piece)) o[piece] = value;  // two ids with the same bytes: the likelier one
    tops.push_back(std::move(o));
  }
  lp["top_logprobs"] = std::move(tops);
  lp["text_offset"] = s.text_offset;
  return lp;
}

}  // namespace

std::string dump_json(const nlohmann::ordered_json& j) { return dump(j); }

nlohmann::ordered_json usage_json(const std::vector<SequenceResult>& choices) {
  int64_t prompt = 0, completion = 0;
  uint64_t flops = 0, image_flops = 0;
  int64_t images = 0;
  for (const SequenceResult& s : choices) {
    prompt += s.prompt_tokens;
    completion += s.completion_tokens;
    flops += s.flops;
    image_flops += s.image_flops;
    images += s.images;
  }
  nlohmann::ordered_json u = {{"prompt_tokens", prompt},
                              {"completion_tokens", completion},
                              {"total_tokens", prompt + completion},
                              {"flops", flops}};
  if (images > 0) u["image_flops"] = image_flops;  // part of flops: the encoder's and projector's
  u["flops_convention"] = "counted by tenx kernels, 1 multiply-add = 2 FLOPs";
  return u;
}

std::string completion_body(const std::string& id, int64_t created, const std::string& model,
                            const std::vector<SequenceResult>& choices) {
  ojson j;
  j["id"] = id;
  j["object"] = "text_completion";
  j["created"] = created;
  j["model"] = model;
  ojson list = ojson::array();
  for (size_t i = 0; i < choices.size(); ++i) {
    const SequenceResult& s = choices[i];
    ojson c;
    c["index"] = i;
    c["text"] = s.text;
    c["finish_reason"] = s.finish_reason;
    c["logprobs"] = s.has_logprobs ? logprobs_json(s) : ojson();
    list.push_back(std::move(c));
  }
  j["choices"] = std::move(list);
  j["usage"] = usage_json(choices);
  return dump(j);
}

std::string models_body(const ModelInfo& m) {
  ojson entry;
  entry["id"] = m.id;
  entry["object"] = "model";
  entry["owned_by"] = "tenx";
  entry["meta"] = {{"n_params", m.n_params}, {"n_ctx", m.n_ctx}, {"n_vocab", m.n_vocab}};
  ojson j;
  j["object"] = "list";
  j["data"] = ojson::array({entry});
  return dump(j);
}

}  // namespace tenx::serve
