#pragma once
// How an item becomes what a model reads (docs/protocols.md): the prompting protocol
// ("completion": the item's text as it is, today's behaviour; "chat": the item as a user message
// rendered through the model's own chat template) and the worked examples (--shots K) drawn from
// the suite's train split. Both are the same for every model of a comparison and recorded in
// run.json and report.json.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tenx/agent/tool_formats.hpp"
#include "tenx/chat/chat_template.hpp"
#include "tenx/eval/run/record.hpp"
#include "tenx/model/metadata.hpp"
#include "tenx/suites/suite.hpp"

namespace tenx::eval {

enum class Protocol { completion, chat };
const char* protocol_name(Protocol p);
// "completion" / "chat"; throws tenx::Error(subject, ...) for anything else.
Protocol parse_protocol(const std::string& text, const std::string& subject);

// A model's chat template with the texts of its own bos/eos tokens (what Hugging Face passes as
// bos_token / eos_token), and the template's SHA-256 (recorded).
struct ChatFormat {
  chat::ChatTemplate tpl;
  std::string bos_token, eos_token;
  std::string sha256;  // of the template text
  // How agent items call tools under chat: detected from the template (tool_formats.hpp), or
  // --tool-format. tenx: tenx's <call> syntax in the conversation.
  agent::ToolFormat tool_format = agent::ToolFormat::tenx;
};
// The model's template: tokenizer.chat_template, else (a Hugging Face folder `subject`) its
// chat_template.jinja with tokenizer_config.json's bos/eos; nullopt when it has none. Throws
// jinja::SyntaxError naming `subject` when the template does not parse.
std::optional<ChatFormat> chat_format_of(const Metadata& meta, const std::string& subject);

// Worked examples of one suite: per task, the train items shown before each of the task's items,
// in the order shown. Agent tasks and items with an image get none (docs/protocols.md).
using ShotTable = std::map<std::string, std::vector<const suites::Item*>>;

// The split worked examples come from (`tenx run` reads it only under --shots).
inline constexpr const char* kShotSplit = "train";

// K examples per choice/generate task of `suite`, drawn from its `train_split` with
// Rng::derive(seed, "<suite>/<task>/shots") among the train items of that task without an image
// (a task with no such train item gets none: image tasks, blind controls).
// Depends on nothing but its arguments, so every model of a run gets the same ones. k = 0: empty.
// Throws tenx::Error naming the suite when it has no such split, or the task when it has some
// usable train items but fewer than k.
ShotTable draw_shots(const suites::Suite& suite, int k, uint64_t seed, const std::string& train_split = kShotSplit);
// The shot ids per task (run.json's "shot_items").
std::map<std::string, std::vector<std::string>> shot_ids(const ShotTable& shots);
// ShotTable back from recorded ids (a resumed run). Throws tenx::Error naming an unknown id.
ShotTable shots_from_ids(const suites::Suite& suite, const std::map<std::string, std::vector<std::string>>& ids,
                         const std::string& train_split = kShotSplit);

// The answer a worked example gives (choice: the gold choice, generate: the first target); its
// question is the item's own (suites::Item::question()).
const std::string& shot_answer(const suites::Item& item);

// Completion protocol: each example's question and answer, then a blank line; "" without shots.
std::string completion_prefix(const std::vector<const suites::Item*>& shots);
// Chat protocol: one user/assistant pair per example (the answer without its leading
// whitespace: an assistant reply starts right after the template's header), then the question.
nlohmann::ordered_json chat_messages(const std::vector<const suites::Item*>& shots, const std::string& question);
// A choice as the assistant's reply under chat: without its leading whitespace (" yes" -> "yes").
std::string chat_reply(const std::string& choice);

// The tool format of a model's agent items under chat: `option` (--tool-format; "" = detect) or
// the one detected from the template. Throws tenx::Error("--tool-format", ...) naming the formats
// for an unknown name.
agent::ToolFormat resolve_tool_format(const std::string& option, const ChatFormat& chat);
// Throws tenx::Error("--tool-format", ...) unless `option` is "" or a format's name.
void check_tool_format_option(const std::string& option);

// What makes the candidates' protocols differ from the baseline's in a run (`tenx verify`
// refuses such a comparison unless --allow-protocol-mismatch): "" when they ran alike; else one
// line per difference naming the models and both sides. The templates of two chat models may
// differ (each renders through its own); the protocol and the shots may not.
std::string protocol_mismatch(const RunManifest& run, const std::string& baseline,
                              const std::vector<std::string>& candidates);

}  // namespace tenx::eval
