// The chat API both ways (docs/remote.md "The chat API", docs/serve.md): the same generate and
// agent items under --protocol chat, run locally and through `tenx serve`'s /v1/chat/completions
// (`#model=ID&api=chat`), give identical outputs and agent transcripts for greedy decoding. Two
// models: the shipped compact model with a template that writes back the completion text (it
// learnt the <call> format, so its episodes have several turns and the tool messages are
// exercised) and a `model init` qwen2 carrying Qwen2.5's real template (../shared).
#include <gtest/gtest.h>
#include <httplib.h>

#include <map>
#include <mutex>
#include <thread>

#include "../eval/runner_fixtures.hpp"
#include "server_process.hpp"
#include "tenx/eval/run/remote_item_runner.hpp"
#include "tenx/eval/run/runner.hpp"
#include "tenx/suites/suite_io.hpp"
#include "tenx/model/model_file.hpp"
#include "tenx/model/model_init.hpp"
#include "tenx/remote/endpoint.hpp"
#include "tenx/remote/image_uri.hpp"
#include "tenx/suites/image.hpp"
#include "tenx/util/error.hpp"

namespace tenx::eval {
namespace {

namespace fs = std::filesystem;
using remote::testing::ServerProcess;

const fs::path kChatSource = fs::path(TENX_TEST_DATA_DIR).parent_path();
const fs::path kQwenChatTemplate = fs::path(TENX_SHARED_DIR) / "reference/chat-templates/Qwen-Qwen2.5-7B-Instruct.jinja";

struct ChatParity {
  int generate = 0, agent = 0, multi_turn = 0, not_applicable = 0, differences = 0;
  int letter = 0;       // choice items by the lettered fallback on both sides
  int letter_only = 0;  // choice items lettered remotely, by log-likelihood locally (the defaults)
  int letters_named = 0;  // of `letter`, the replies that named a choice
  std::string first_difference;
};

// --protocol chat over the suites, locally and through tenx serve (api=chat), in one run.
ChatParity run_both(const fs::path& model, const std::vector<std::string>& suites, int64_t limit,
                    const std::string& tool_format = "", const std::string& choice_method = "") {
  ServerProcess server({TENX_BINARY, "serve", model.string(), "--port", "0", "--model-id", "m", "--parallel", "2"}, 60);
  EXPECT_TRUE(server.ok()) << "tenx serve did not start: " << server.error();
  if (!server.ok()) return {};
  testing::TempDir dir;
  RunOptions o;
  o.models = {{"local", model.string()}, {"remote", server.base_url() + "#model=m&api=chat"}};
  o.suites = suites;
  o.limit = limit;
  o.seed = 2;
  o.protocol = "chat";
  o.tool_format = tool_format;
  o.choice_method = choice_method;
  o.out_dir = dir / "run";
  o.quiet = true;
  o.remote.concurrency = 2;
  o.remote.max_retries = 1;
  const RunResult run = run_evaluation(o);
  EXPECT_EQ(run.manifest.models[1].protocol, "chat");
  EXPECT_EQ(run.manifest.models[1].api, "chat");
  EXPECT_EQ(run.manifest.models[0].choice_method, choice_method.empty() ? "loglik" : choice_method);
  EXPECT_EQ(run.manifest.models[1].choice_method, choice_method.empty() ? "letter" : choice_method);
  std::map<std::pair<std::string, std::string>, const ItemRecord*> local;
  for (const ItemRecord& r : run.records)
    if (r.model == "local") local[{r.suite, r.item}] = &r;
  ChatParity p;
  for (const ItemRecord& r : run.records) {
    if (r.model != "remote") continue;
    const ItemRecord& l = *local.at({r.suite, r.item});
    auto differ = [&](const std::string& what) {
      ++p.differences;
      if (p.first_difference.empty()) p.first_difference = r.suite + "/" + r.item + ": " + what;
    };
    if (!r.applicable || (r.type == "choice" && choice_method == "loglik")) {  // images; no prompt logprobs
      EXPECT_FALSE(r.applicable) << r.item;
      ++p.not_applicable;
      continue;
    }
    if (r.type == "choice" && l.choice_method != "letter") {  // the defaults: loglik here, letter there
      EXPECT_EQ(r.choice_method, "letter") << r.item;
      EXPECT_TRUE(l.choice_method.empty()) << "a loglik record is as it always was";
      ++p.letter_only;
      continue;
    }
    if (r.error != l.error) differ("error '" + l.error + "' vs '" + r.error + "'");
    if (r.output != l.output)
      differ("output '" + l.output + "' vs '" + r.output + "' (stop " + l.stop_reason + " vs " + r.stop_reason +
             ", steps " + std::to_string(l.steps) + " vs " + std::to_string(r.steps) + ", tokens " +
             std::to_string(l.tokens_out) + " vs " + std::to_string(r.tokens_out) + ")");
    if (r.correct != l.correct) differ("correct");
    // Without --tool-format the remote's failures name the server's tool_calls ("turn 1: server:
    // ...") where the local ones name the detected format; the rest must agree.
    std::string remote_failure = r.failure;
    const size_t at = remote_failure.find(": server: ");
    const size_t local_end = l.failure.size() > at + 2 ? l.failure.find(':', at + 2) : std::string::npos;
    if (tool_format.empty() && at != std::string::npos && local_end != std::string::npos)
      remote_failure.replace(at + 2, 6, l.failure.substr(at + 2, local_end - at - 2));
    if (remote_failure != l.failure) differ("failure '" + l.failure + "' vs '" + r.failure + "'");
    if (r.type == "choice") {
      ++p.letter;
      p.letters_named += r.predicted >= 0;
      if (r.choice_method != l.choice_method) differ("choice_method " + l.choice_method + " vs " + r.choice_method);
      if (r.extracted != l.extracted || r.predicted != l.predicted || r.gold != l.gold) differ("the letter");
      if (r.tokens_out != l.tokens_out) differ("tokens_out");
      if (r.stop_reason != l.stop_reason) differ("stop_reason " + l.stop_reason + " vs " + r.stop_reason);
    } else if (r.type == "generate") {
      ++p.generate;
      if (r.tokens_out != l.tokens_out) differ("tokens_out");
      if (r.stop_reason != l.stop_reason) differ("stop_reason " + l.stop_reason + " vs " + r.stop_reason);
    } else {
      ++p.agent;
      p.multi_turn += l.steps >= 2;
      if (r.steps != l.steps || r.calls != l.calls || r.valid_calls != l.valid_calls) differ("steps/calls");
      if (r.tokens_out != l.tokens_out)  // cut at the token where the local loop stops (logprobs' bytes)
        differ("tokens_out " + std::to_string(l.tokens_out) + " vs " + std::to_string(r.tokens_out));
      if (r.stop_reason != l.stop_reason) differ("stop_reason " + l.stop_reason + " vs " + r.stop_reason);
    }
  }
  std::printf("[ chat api ] %d generate + %d agent + %d lettered choice items alike (%d agent episodes of several "
              "turns, %d replies naming a choice), %d lettered only remotely, %d not applicable, %d differences\n",
              p.generate, p.agent, p.letter, p.multi_turn, p.letters_named, p.letter_only, p.not_applicable,
              p.differences);
  return p;
}

TEST(RemoteChat, TenxServeChatGivesTheLocalChatResultsOnTheShippedModel) {
  if (testing::sanitizer_build()) GTEST_SKIP() << "slow under sanitizers";
  const fs::path compact = kChatSource / "data/models/compact.gguf";
  if (!fs::exists(compact)) GTEST_SKIP() << compact << " is missing";
  testing::TempDir dir;
  ModelFile mf = load_gguf(compact.string());
  mf.meta.set("tokenizer.chat_template",
              GgufValue::str("{{ bos_token }}{% for m in messages %}{{ m.content }}\n{% endfor %}"));
  const fs::path templated = dir / "compact-templated.gguf";
  write_gguf(templated.string(), mf.meta, mf.tensors);
  const ChatParity p = run_both(templated, {"reasoning", "agentic", "health"}, 24, "tenx");
  EXPECT_EQ(p.differences, 0) << p.first_difference;
  EXPECT_GT(p.generate, 0);
  EXPECT_GT(p.agent, 0);
  EXPECT_GE(p.multi_turn, 3) << "the tool-message turns were hardly exercised";
  EXPECT_GT(p.letter_only, 0) << "choice items over the chat API default to the lettered fallback";
  // --choice-method letter on both: the local lettered run is the reference the chat API matches.
  const ChatParity l = run_both(templated, {"health"}, 24, "", "letter");
  EXPECT_EQ(l.differences, 0) << l.first_difference;
  EXPECT_GT(l.letter, 0);
  // --choice-method loglik: the chat API cannot, so its choice items are not applicable.
  const ChatParity n = run_both(templated, {"health"}, 6, "", "loglik");
  EXPECT_EQ(n.differences, 0) << n.first_difference;
  EXPECT_GT(n.not_applicable, 0);
}

TEST(RemoteChat, TenxServeChatGivesTheLocalChatResultsUnderQwensTemplate) {
  if (testing::sanitizer_build()) GTEST_SKIP() << "slow under sanitizers";
  if (!fs::exists(kQwenChatTemplate)) GTEST_SKIP() << kQwenChatTemplate << " is missing (the ../shared checkout)";
  testing::TempDir dir;
  ModelInitSpec spec;
  spec.arch = "qwen2";
  spec.n_embd = 32;
  spec.n_layer = 2;
  spec.n_head = 4;
  spec.n_head_kv = 2;
  spec.n_ff = 64;
  spec.n_vocab = 320;
  spec.n_ctx = 4096;
  spec.seed = 1;
  spec.chat_template = testing::read_text(kQwenChatTemplate);
  spec.control_tokens = {"<|im_start|>", "<|im_end|>"};
  const fs::path model = dir / "qwen2-chat.gguf";
  write_random_model(model.string(), spec);
  // Agent items natively on both sides, no --tool-format: locally in hermes (detected from Qwen's
  // template), remotely the JSON-schema tools sent and the tool_calls tenx serve parses back.
  const ChatParity p = run_both(model, {"reasoning", "agentic"}, 10);
  EXPECT_EQ(p.differences, 0) << p.first_difference;
  EXPECT_GT(p.generate, 0);
  EXPECT_GT(p.agent, 0);
  // --tool-format hermes on both: a reply without tool_calls is parsed in hermes remotely too, so
  // even the failures agree word for word.
  const ChatParity h = run_both(model, {"agentic"}, 10, "hermes");
  EXPECT_EQ(h.differences, 0) << h.first_difference;
  EXPECT_GT(h.agent, 0);
  // Lettered choice items under Qwen's template, locally and through the chat API.
  const ChatParity l = run_both(model, {"health"}, 12, "", "letter");
  EXPECT_EQ(l.differences, 0) << l.first_difference;
  EXPECT_GT(l.letter, 0);
}

TEST(RemoteChat, EndpointFragmentNamesTheApi) {
  const remote::Endpoint chat = remote::parse_endpoint("http://127.0.0.1:8/v1#model=q&api=chat", "--model x");
  EXPECT_EQ(chat.model_id, "q");
  EXPECT_EQ(chat.api, "chat");
  EXPECT_EQ(chat.url(), "http://127.0.0.1:8/v1#model=q&api=chat");
  const remote::Endpoint plain = remote::parse_endpoint("http://127.0.0.1:8/v1#model=q", "--model x");
  EXPECT_EQ(plain.api, "completions");
  EXPECT_EQ(plain.url(), "http://127.0.0.1:8/v1#model=q") << "unchanged: run.json hashes of completion runs stay";
  EXPECT_EQ(remote::parse_endpoint("http://h/v1#api=chat&model=q", "--model x").model_id, "q");
  EXPECT_EQ(remote::parse_endpoint("http://h/v1#api=chat", "--model x", "dflt").model_id, "dflt");
  EXPECT_THROW(remote::parse_endpoint("http://h/v1#model=q&api=responses", "--model x"), Error);
  EXPECT_THROW(remote::parse_endpoint("http://h/v1#model=q&frob=1", "--model x"), Error);
}

TEST(RemoteChat, ChatResponseParser) {
  const remote::CompletionResponse r = remote::parse_chat_response(
      R"({"choices":[{"index":0,"message":{"role":"assistant","content":"Hi é"},"finish_reason":"stop","stop_reason":null,
          "logprobs":{"content":[{"token":"Hi","logprob":-0.5,"bytes":[72,105]},{"token":" é","logprob":-1.5,"bytes":[32,195,169]}]}}],
          "usage":{"prompt_tokens":9,"completion_tokens":2,"flops":77}})");
  const remote::CompletionChoice& c = r.choices.at(0);
  EXPECT_EQ(c.text, "Hi é");
  EXPECT_EQ(c.finish_reason, "stop");
  EXPECT_TRUE(c.says_stop_reason);
  EXPECT_FALSE(c.stop_reason);
  EXPECT_EQ(c.tokens, (std::vector<std::string>{"Hi", " é"}));
  EXPECT_EQ(c.text_offset, (std::vector<int64_t>{0, 2}));
  EXPECT_DOUBLE_EQ(*c.token_logprobs[1], -1.5);
  EXPECT_EQ(r.usage.total_tokens, 11);
  EXPECT_EQ(*r.usage.flops, 77u);
  const remote::CompletionResponse calls = remote::parse_chat_response(
      R"({"choices":[{"message":{"content":null,"tool_calls":[{"id":"a","type":"function","function":{"name":"f","arguments":"{}"}}]},
          "finish_reason":"tool_calls","stop_reason":"</answer>"}],"usage":{"prompt_tokens":1}})");
  EXPECT_EQ(calls.choices[0].text, "");
  EXPECT_EQ(calls.choices[0].tool_calls[0]["function"]["name"], "f");
  EXPECT_EQ(*calls.choices[0].stop_reason, "</answer>");
  auto message_of = [](const std::string& body) {
    try {
      remote::parse_chat_response(body);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("(parsed)");
  };
  EXPECT_NE(message_of(R"({"choices":[]})").find("0 choices"), std::string::npos);
  EXPECT_NE(message_of(R"({"choices":[{"message":{"content":5}}],"usage":{"prompt_tokens":1}})").find("content"), std::string::npos);
  EXPECT_NE(message_of(R"({"choices":[{"message":{"content":"x"}}]})").find("usage"), std::string::npos);
  EXPECT_NE(message_of(R"({"choices":[{"message":{"content":"x"},"logprobs":{"content":[{"token":"x","logprob":-1,"bytes":[300]}]}}],"usage":{"prompt_tokens":1}})")
                .find("bytes"),
            std::string::npos);
  EXPECT_NE(message_of(R"({"error":{"message":"no such model"}})").find("no such model"), std::string::npos);
  EXPECT_NE(message_of(R"({"choices":[{"message":{"content":"x"}}],"usage":{"prompt_tokens":-1}})").find("prompt_tokens"),
            std::string::npos);
}

// The PNG of an image part, read back by stb_image (the suites' decoder), and base64 against
// RFC 4648's test vectors.
TEST(RemoteChat, ImagePartsArePngDataUris) {
  EXPECT_EQ(remote::base64(""), "");
  EXPECT_EQ(remote::base64("f"), "Zg==");
  EXPECT_EQ(remote::base64("fo"), "Zm8=");
  EXPECT_EQ(remote::base64("foo"), "Zm9v");
  EXPECT_EQ(remote::base64("foobar"), "Zm9vYmFy");
  testing::TempDir dir;
  for (const int c : {1, 3}) {
    std::vector<uint8_t> px(static_cast<size_t>(5 * 3 * c));
    for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<uint8_t>((i * 37) % 17);  // 0..16, digits' range
    const fs::path file = dir / ("i" + std::to_string(c) + ".png");
    testing::write_text(file, remote::encode_png(5, 3, c, 16, px));
    const suites::Image back = suites::decode_image_file(file);
    ASSERT_EQ(back.w, 5);
    ASSERT_EQ(back.h, 3);
    ASSERT_EQ(back.c, c);
    for (size_t i = 0; i < px.size(); ++i) EXPECT_EQ(back.pixels[i], (px[i] * 255 + 8) / 16) << i;  // rounded, as clip_image.cpp rescales
  }
  std::vector<uint8_t> big(static_cast<size_t>(300 * 300));  // more than one stored block of 65,535
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i % 251);
  const fs::path file = dir / "big.png";
  testing::write_text(file, remote::encode_png(300, 300, 1, 255, big));
  EXPECT_EQ(suites::decode_image_file(file).pixels, big);
  EXPECT_EQ(remote::png_data_uri(1, 1, 1, 255, std::vector<uint8_t>{7}).rfind("data:image/png;base64,iVBORw0KGgo", 0), 0u);
  EXPECT_THROW(remote::encode_png(2, 2, 1, 255, std::vector<uint8_t>{1}), Error);
}

// A fake chat server for one agent episode: the first reply calls lookup (as OpenAI tool_calls,
// or only as hermes text in content), the second answers. It keeps every request.
struct FakeToolServer {
  explicit FakeToolServer(bool calls_as_text) {
    server.Post("/v1/chat/completions", [this, calls_as_text](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu);
      requests.push_back(nlohmann::ordered_json::parse(req.body));
      const bool first = requests.size() == 1;
      nlohmann::ordered_json message = {{"role", "assistant"}, {"content", "886.3"}};
      if (first && calls_as_text) {
        message["content"] = "<tool_call>\n{\"name\": \"lookup\", \"arguments\": {\"patient\": 168, \"field\": \"area\"}}\n</tool_call>";
      } else if (first) {
        message["content"] = nullptr;
        message["tool_calls"] = {{{"id", "call_7"},
                                  {"type", "function"},
                                  {"function", {{"name", "lookup"}, {"arguments", R"({"patient": 168, "field": "area"})"}}}}};
      }
      const nlohmann::ordered_json body = {
          {"choices", {{{"index", 0}, {"message", message}, {"finish_reason", first && !calls_as_text ? "tool_calls" : "stop"}}}},
          {"usage", {{"prompt_tokens", 50}, {"completion_tokens", 9}}}};
      res.set_content(body.dump(), "application/json");
    });
    port = server.bind_to_any_port("127.0.0.1");
    serving = std::thread([this] { server.listen_after_bind(); });
    while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeToolServer() {
    server.stop();
    serving.join();
  }
  // One agent item through RemoteItemRunner (api=chat) with `format` (nullopt: no --tool-format).
  ItemRecord run(const suites::Item& item, std::optional<agent::ToolFormat> format, std::string& failure) {
    remote::ClientOptions co;
    co.max_retries = 0;
    remote::CompletionClient client(
        remote::parse_endpoint("http://127.0.0.1:" + std::to_string(port) + "/v1#model=m&api=chat", "--model r"), co);
    RemoteItemRunner runner(client, nullptr);
    runner.set_tool_format(format);
    try {
      return runner.run(item);
    } catch (const std::exception& e) {
      failure = e.what();
    }
    return {};
  }
  httplib::Server server;
  std::thread serving;
  int port = 0;
  std::mutex mu;
  std::vector<nlohmann::ordered_json> requests;
};

const suites::Item& agent_item(const suites::Suite& agentic, const std::string& id) {
  for (const suites::Item& it : agentic.split("test"))
    if (it.id == id) return it;
  throw Error(id, "no such item");
}

// Native tool calls over the chat API, as the local native loop makes them: the environment's
// tools as JSON-schema `tools`, the reply's tool_calls run, the next request carrying the
// assistant's tool_calls (arguments as a JSON string, OpenAI's shape) and the result as a `tool`
// message answering the server's call id. The expected values are the suite's own (the tool's
// schema, the patient's record in the environment, the gold answer).
TEST(RemoteChat, ServerToolCallsRunNativelyAndComeBackAsToolMessages) {
  const suites::Suite agentic = suites::load_suite(kChatSource / "data/suites/agentic");
  const suites::Item& item = agent_item(agentic, "agentic-simple-test-0000");
  FakeToolServer server(false);
  std::string failure;
  const ItemRecord r = server.run(item, std::nullopt, failure);
  ASSERT_EQ(failure, "");
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.steps, 2);
  EXPECT_EQ(r.calls, 1);
  EXPECT_EQ(r.valid_calls, 1);
  EXPECT_EQ(r.stop_reason, "answer");
  EXPECT_TRUE(r.correct) << r.output;
  ASSERT_EQ(server.requests.size(), 2u);
  const nlohmann::ordered_json& tools = server.requests[0]["tools"];
  ASSERT_EQ(tools.size(), item.agent().tools.size());
  EXPECT_EQ(tools[0]["function"]["name"], item.agent().tools[0].name);
  EXPECT_EQ(server.requests[0].count("stop"), 0u) << "native turns end at the model's end of turn, not at tenx's tags";
  const nlohmann::ordered_json& m = server.requests[1]["messages"];
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(m[0]["role"], "system");
  EXPECT_EQ(m[1]["content"], item.agent().instruction);
  EXPECT_EQ(m[2]["role"], "assistant");
  EXPECT_EQ(m[2]["tool_calls"][0]["id"], "call_7");
  EXPECT_EQ(m[2]["tool_calls"][0]["function"]["name"], "lookup");
  EXPECT_EQ(m[2]["tool_calls"][0]["function"]["arguments"], R"({"patient":168,"field":"area"})");
  EXPECT_EQ(m[3]["role"], "tool");
  EXPECT_EQ(m[3]["tool_call_id"], "call_7");
  EXPECT_EQ(m[3]["name"], "lookup");
  EXPECT_NE(m[3]["content"].get<std::string>().find("886.3"), std::string::npos) << m[3].dump();
}

// A server that leaves the calls as text in content: read in the --tool-format given (hermes);
// without one the text is the answer (a wrong one here); under tenx no tools are sent.
TEST(RemoteChat, CallsLeftInContentAreParsedInTheGivenToolFormat) {
  // A reply read in no format: its content, reasoning stripped; bytes that are not UTF-8 fail it
  // where a native format's parser would (hermes says the same of the same bytes).
  EXPECT_EQ(agent::parse_content_turn("<think>hmm</think>\n 63 ").value->content, "63");
  EXPECT_TRUE(agent::parse_content_turn("63").value->calls.empty());
  const auto bad = agent::parse_content_turn("ab\n c\xd1");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error->to_string(), "line 2, column 3: invalid UTF-8 (byte 0xd1)");
  EXPECT_EQ(bad.error->to_string(), agent::parse_native_turn(agent::ToolFormat::hermes, "ab\n c\xd1").error->to_string());
  const suites::Suite agentic = suites::load_suite(kChatSource / "data/suites/agentic");
  const suites::Item& item = agent_item(agentic, "agentic-simple-test-0000");
  {
    FakeToolServer server(true);
    std::string failure;
    const ItemRecord r = server.run(item, agent::ToolFormat::hermes, failure);
    ASSERT_EQ(failure, "");
    EXPECT_EQ(r.steps, 2);
    EXPECT_EQ(r.valid_calls, 1);
    EXPECT_TRUE(r.correct) << r.output;
    ASSERT_EQ(server.requests.size(), 2u);
    EXPECT_EQ(server.requests[1]["messages"][2]["tool_calls"][0]["id"], "call00000");
    EXPECT_EQ(server.requests[1]["messages"][3]["tool_call_id"], "call00000");
  }
  {
    FakeToolServer server(true);
    std::string failure;
    const ItemRecord r = server.run(item, std::nullopt, failure);
    ASSERT_EQ(failure, "");
    EXPECT_EQ(r.steps, 1);
    EXPECT_EQ(r.calls, 0);
    EXPECT_EQ(r.stop_reason, "answer");
    EXPECT_FALSE(r.correct);
  }
  {
    FakeToolServer server(true);
    std::string failure;
    (void)server.run(item, agent::ToolFormat::tenx, failure);
    ASSERT_EQ(failure, "");
    ASSERT_GE(server.requests.size(), 1u);
    EXPECT_EQ(server.requests[0].count("tools"), 0u);
    EXPECT_NE(server.requests[0]["messages"][0]["content"].get<std::string>().find("lookup("), std::string::npos);
  }
}

TEST(RemoteChat, ProtocolMustMatchTheApi) {
  testing::TempDir dir;
  RunOptions o;
  o.suites = {"reasoning"};
  o.out_dir = dir / "run";
  o.quiet = true;
  o.models = {{"r", "http://127.0.0.1:9/v1#model=q"}};
  o.protocol = "chat";
  try {
    run_evaluation(o);
    ADD_FAILURE() << "--protocol chat over the completions API ran";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("&api=chat"), std::string::npos) << e.what();
  }
  o.models = {{"r", "http://127.0.0.1:9/v1#model=q&api=chat"}};
  o.protocol = "completion";
  EXPECT_THROW(run_evaluation(o), Error);
}

}  // namespace
}  // namespace tenx::eval
