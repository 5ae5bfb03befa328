// tenx serve's /v1/chat/completions and streaming (docs/serve.md): the chat request parser, a
// conversation rendered through the model's template and decoded greedily (against the
// Decoder run directly on the text written out by hand), logprobs in the chat shape, the 400s,
// server-sent events for both endpoints (the deltas joined == the answer without streaming), and a
// client that leaves mid-stream (its sequence is freed, the server goes on serving).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "serve_fixture.hpp"
#include "tenx/model/model_init.hpp"
#include "tenx/serve/request.hpp"
#include "tenx/serve/server.hpp"
#include "tenx/serve/tool_calls.hpp"

namespace tenx::serve {
namespace {

using OJson = nlohmann::ordered_json;
namespace fs = std::filesystem;

// ChatML, as Qwen's templates write it, with the tools as JSON in a system line when given.
const char* kChatml =
    "{% if tools %}<|im_start|>system\nTOOLS {{ tools | tojson }}<|im_end|>\n{% endif %}"
    "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

struct ChatModel {
  Model model;
  Tokenizer tokenizer;
};

const ChatModel& chat_model() {
  static const std::unique_ptr<ChatModel> m = [] {
    const fs::path dir = fs::temp_directory_path() / ("tenx-serve-chat-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const std::string path = (dir / "chat-tiny.gguf").string();
    ModelInitSpec s;
    s.arch = "qwen2";
    s.n_embd = 32;
    s.n_layer = 2;
    s.n_head = 4;
    s.n_head_kv = 2;
    s.n_ff = 64;
    s.n_vocab = 320;
    s.n_ctx = 4096;
    s.seed = 5;
    s.chat_template = kChatml;
    s.control_tokens = {"<|im_start|>", "<|im_end|>"};
    write_random_model(path, s);
    Model model = Model::load(path);
    Tokenizer tok = Tokenizer::from_metadata(model.file.meta, path);
    static struct Cleanup {
      fs::path dir;
      ~Cleanup() { std::error_code ec; fs::remove_all(dir, ec); }
    } cleanup{dir};
    return std::make_unique<ChatModel>(ChatModel{std::move(model), std::move(tok)});
  }();
  return *m;
}

struct ChatServer {
  std::unique_ptr<Server> server;
  int port = 0;
};

ChatServer start_chat(bool with_template, int parallel = 2, int64_t n_ctx = 256, int64_t max_tokens_limit = 64) {
  const ChatModel& m = chat_model();
  ServerOptions o;
  o.port = 0;
  o.model_id = "chat";
  o.max_tokens_limit = max_tokens_limit;
  o.scheduler.parallel = parallel;
  o.scheduler.n_ctx = n_ctx;
  o.scheduler.max_batch = 64;
  if (with_template) o.chat = std::make_shared<const chat::ModelChat>(*chat::model_chat_of(m.model.file.meta, "chat-tiny"));
  ChatServer s;
  s.server = std::make_unique<Server>(m.model, m.tokenizer, o);
  s.port = s.server->start();
  return s;
}

httplib::Result post_to(int port, const std::string& path, const OJson& body) {
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(60, 0);
  return c.Post(path, body.dump(), "application/json");
}

// Greedy ids after `prompt` until an end-of-generation token (not included) or max_tokens, by
// tenx::generate on one sequence.
std::vector<int32_t> greedy_to_eog(const Model& model, const Tokenizer& tok, const std::vector<int32_t>& prompt, int max_tokens) {
  ExecContext ctx(1);
  Decoder dec(model, static_cast<int64_t>(prompt.size()) + max_tokens + 1, 1, 64);
  Sampler greedy(SamplerOptions{});
  std::vector<int32_t> out = generate(ctx, dec, prompt, max_tokens, greedy, -1,
                                      [&](const std::vector<int32_t>& t) { return tok.is_eog(t.back()); })
                                 .tokens;
  if (!out.empty() && tok.is_eog(out.back())) out.pop_back();
  return out;
}

// The data: lines of an event stream, parsed (but "[DONE]", which must come last, as a string).
std::vector<OJson> events_of(const std::string& body) {
  std::vector<OJson> out;
  size_t at = 0;
  while (at < body.size()) {
    const size_t end = body.find("\n\n", at);
    EXPECT_NE(end, std::string::npos) << "an event without its blank line: " << body.substr(at);
    if (end == std::string::npos) break;
    const std::string line = body.substr(at, end - at);
    EXPECT_EQ(line.rfind("data: ", 0), 0u) << line;
    const std::string data = line.substr(6);
    out.push_back(data == "[DONE]" ? OJson("[DONE]") : OJson::parse(data));
    at = end + 2;
  }
  return out;
}

const OJson kMessages = OJson::array({{{"role", "system"}, {"content", "You answer briefly."}},
                                      {{"role", "user"}, {"content", "Where is the cat?"}}});

TEST(ServeChatRequest, ParsesContentPartsToolCallsAndRefusesWhatItCannotDo) {
  const ChatRequest r = parse_chat_request(R"({"model":"m","messages":[
      {"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},
      {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function",
        "function":{"name":"lookup","arguments":"{\"patient\": 3, \"field\": \"bp\"}"}}]},
      {"role":"tool","tool_call_id":"c1","content":"70"}],
    "tools":[{"type":"function","function":{"name":"lookup","parameters":{"type":"object"}}}],
    "max_completion_tokens":7,"stop":"\n","logprobs":true,"top_logprobs":2,"seed":1,"temperature":0})",
                                           64);
  EXPECT_EQ(r.messages[0]["content"], "a\nb");
  EXPECT_TRUE(r.messages[1]["content"].is_null());
  EXPECT_EQ(r.messages[1]["tool_calls"][0]["function"]["arguments"], OJson({{"patient", 3}, {"field", "bp"}}));
  EXPECT_EQ(r.messages[1]["tool_calls"][0]["function"]["arguments"].begin().key(), "patient") << "client key order kept";
  EXPECT_EQ(r.messages[2]["tool_call_id"], "c1");
  ASSERT_TRUE(r.tools);
  EXPECT_EQ((*r.tools)[0]["function"]["name"], "lookup");
  EXPECT_EQ(r.max_tokens, 7);
  EXPECT_EQ(r.stop, std::vector<std::string>{"\n"});
  EXPECT_TRUE(r.logprobs);
  EXPECT_EQ(r.top_logprobs, 2);
  EXPECT_EQ(parse_chat_request(R"({"model":"m","messages":[{"role":"user","content":"x"}]})", 64).max_tokens, 64)
      << "no max_tokens: up to the limit (and the context)";

  auto param_of = [](const std::string& body) {
    try {
      parse_chat_request(body, 64);
    } catch (const ApiError& e) {
      EXPECT_EQ(e.status(), 400) << body;
      return e.param();
    }
    return std::string("(accepted)");
  };
  EXPECT_EQ(param_of(R"({"model":"m"})"), "messages");
  EXPECT_EQ(param_of(R"({"model":"m","messages":[]})"), "messages");
  EXPECT_EQ(param_of(R"({"model":"m","messages":[{"content":"x"}]})"), "messages[0].role");
  EXPECT_EQ(param_of(R"({"model":"m","messages":[{"role":"user","content":5}]})"), "messages[0].content");
  EXPECT_EQ(param_of(R"({"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:"}}]}]})"),
            "messages[0].content[0].image_url.url");
  EXPECT_EQ(param_of(R"({"model":"m","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{}}]}]})"),
            "messages[0].content[0].type");
  EXPECT_EQ(param_of(R"({"model":"m","messages":[{"role":"assistant","tool_calls":[{"function":{"name":"f","arguments":"{"}}]}]})"),
            "messages[0].tool_calls[0].function.arguments");
  EXPECT_EQ(param_of(R"({"model":"m","messages":[{"role":"user","content":"x"}],"top_logprobs":2})"), "top_logprobs");
  EXPECT_EQ(param_of(R"({"model":"m","messages":[{"role":"user","content":"x"}],"temperature":0.7})"), "temperature");
  EXPECT_EQ(param_of(R"({"model":"m","messages":[{"role":"user","content":"x"}],"stream":true,"logprobs":true})"), "logprobs");
  EXPECT_EQ(param_of(R"({"model":"m","messages":[{"role":"user","content":"x"}],"tool_choice":"required"})"), "tool_choice");
  EXPECT_EQ(param_of(R"({"model":"m","messages":[{"role":"user","content":"x"}],"frobnicate":1})"), "frobnicate");
  EXPECT_EQ(param_of(R"({"model":"m","messages":[{"role":"user","content":"x"}],"stream_options":{"x":1}})"),
            "stream_options.x");
}

TEST(ServeChat, GreedyReplyIsTheTemplatedPromptDecodedByTheDecoder) {
  ChatServer s = start_chat(true);
  const ChatModel& m = chat_model();
  // The template's text written out by hand, tokenized with its control tokens.
  const std::string text =
      "<|im_start|>system\nYou answer briefly.<|im_end|>\n<|im_start|>user\nWhere is the cat?<|im_end|>\n"
      "<|im_start|>assistant\n";
  const std::vector<int32_t> prompt = m.tokenizer.encode(text, false, true);
  EXPECT_EQ(std::count(prompt.begin(), prompt.end(), prompt.front()), 3) << "<|im_start|> is one token";
  const std::vector<int32_t> want = greedy_to_eog(m.model, m.tokenizer, prompt, 24);

  const auto r = post_to(s.port, "/v1/chat/completions",
                         {{"model", "chat"}, {"messages", kMessages}, {"max_tokens", 24}, {"logprobs", true}, {"top_logprobs", 2}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const OJson j = OJson::parse(r->body);
  EXPECT_EQ(j["object"], "chat.completion");
  const OJson& c = j["choices"][0];
  EXPECT_EQ(c["message"]["role"], "assistant");
  // Bytes that are not valid UTF-8 (a byte-level token inside a character) are served as U+FFFD.
  EXPECT_EQ(c["message"]["content"], OJson::parse(OJson(test::pieces(m.tokenizer, want)).dump(-1, ' ', false, OJson::error_handler_t::replace)));
  EXPECT_EQ(c["finish_reason"], want.size() == 24 ? "length" : "stop");
  EXPECT_EQ(j["usage"]["prompt_tokens"], prompt.size());
  EXPECT_EQ(j["usage"]["completion_tokens"], want.size());
  // logprobs in the chat shape, against the Decoder's float64 softmax over prompt + reply.
  std::vector<int32_t> all = prompt;
  all.insert(all.end(), want.begin(), want.end());
  const std::vector<double> lp = test::oracle_logprobs(m.model, all);
  ASSERT_EQ(c["logprobs"]["content"].size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    const OJson& t = c["logprobs"]["content"][i];
    EXPECT_NEAR(t["logprob"].get<double>(), lp[prompt.size() + i], 1e-5) << i;
    EXPECT_EQ(t["top_logprobs"].size(), 2u);
    EXPECT_GE(t["top_logprobs"][0]["logprob"].get<double>(), t["logprob"].get<double>() - 1e-9) << "greedy: the top one";
    EXPECT_EQ(t["bytes"].size(), m.tokenizer.token_to_piece(want[i]).size());
  }
  // No generation prompt: the template's text stops after the user's turn (one fewer <|im_start|>).
  const auto bare = post_to(s.port, "/v1/chat/completions",
                            {{"model", "chat"}, {"messages", kMessages}, {"max_tokens", 0}, {"add_generation_prompt", false}});
  ASSERT_EQ(bare->status, 200) << bare->body;
  EXPECT_EQ(OJson::parse(bare->body)["usage"]["prompt_tokens"].get<size_t>(),
            m.tokenizer.encode(text.substr(0, text.rfind("<|im_start|>")), false, true).size());
}

TEST(ServeChat, ToolsReachTheTemplateAndErrorsAreOpenAIShaped) {
  ChatServer s = start_chat(true);
  const ChatModel& m = chat_model();
  const OJson tools = OJson::array({{{"type", "function"}, {"function", {{"name", "lookup"}, {"parameters", {{"type", "object"}}}}}}});
  const auto r = post_to(s.port, "/v1/chat/completions",
                         {{"model", "chat"}, {"messages", kMessages}, {"tools", tools}, {"max_tokens", 0}});
  ASSERT_EQ(r->status, 200) << r->body;
  // tojson as Hugging Face defines it (Python's json.dumps: ", " and ": ").
  const std::string text = "<|im_start|>system\nTOOLS " +
                           std::string(R"([{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}])") +
                           "<|im_end|>\n<|im_start|>system\nYou answer briefly.<|im_end|>\n<|im_start|>user\n"
                           "Where is the cat?<|im_end|>\n<|im_start|>assistant\n";
  EXPECT_EQ(OJson::parse(r->body)["usage"]["prompt_tokens"].get<size_t>(), m.tokenizer.encode(text, false, true).size());

  const auto wrong_model = post_to(s.port, "/v1/chat/completions", {{"model", "other"}, {"messages", kMessages}});
  EXPECT_EQ(wrong_model->status, 404);
  ChatServer plain = start_chat(false);
  const auto none = post_to(plain.port, "/v1/chat/completions", {{"model", "chat"}, {"messages", kMessages}});
  ASSERT_EQ(none->status, 400);
  const OJson e = OJson::parse(none->body);
  EXPECT_EQ(e["error"]["code"], "no_chat_template");
  EXPECT_EQ(e["error"]["type"], "invalid_request_error");
  EXPECT_NE(e["error"]["message"].get<std::string>().find("no chat template"), std::string::npos) << e.dump();
}

std::string joined_deltas(const std::vector<OJson>& events, bool chat, std::string& finish) {
  std::string text;
  for (const OJson& e : events) {
    if (e.is_string() || e["choices"].empty()) continue;
    const OJson& c = e["choices"][0];
    if (chat) {
      if (c["delta"].contains("content")) text += c["delta"]["content"].get<std::string>();
    } else {
      text += c["text"].get<std::string>();
    }
    if (!c["finish_reason"].is_null()) finish = c["finish_reason"];
  }
  return text;
}

// The reply's calls in the template's native format become OpenAI's tool_calls: Qwen2.5's
// template (hermes) with two calls written as that template writes them, arguments as a JSON
// string; a reply without calls, one that does not parse, and a template without a native format
// (tenx's <call> lines) stay plain content.
TEST(ServeChat, NativeToolCallsInTheReplyBecomeToolCalls) {
  const fs::path qwen = fs::path(TENX_SHARED_DIR) / "reference/chat-templates/Qwen-Qwen2.5-7B-Instruct.jinja";
  if (!fs::exists(qwen)) GTEST_SKIP() << qwen << " is missing (the ../shared checkout)";
  std::ifstream in(qwen);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const chat::ModelChat chat{chat::ChatTemplate::parse(text, "qwen"), "", "<|im_end|>", text, ""};
  const auto r = tool_calls_of(chat, "Let me look.\n<tool_call>\n{\"name\": \"lookup\", \"arguments\": {\"patient\": 17, "
                                     "\"field\": \"age\"}}\n</tool_call>\n<tool_call>\n{\"name\": \"today\", \"arguments\": {}}\n</tool_call>");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->content, "Let me look.");
  ASSERT_EQ(r->calls.size(), 2u);
  EXPECT_EQ(r->calls[0]["type"], "function");
  EXPECT_EQ(r->calls[0]["function"]["name"], "lookup");
  EXPECT_EQ(nlohmann::json::parse(r->calls[0]["function"]["arguments"].get<std::string>()),
            nlohmann::json::parse(R"({"patient": 17, "field": "age"})"));
  EXPECT_EQ(r->calls[1]["function"]["name"], "today");
  EXPECT_NE(r->calls[0]["id"], r->calls[1]["id"]);
  EXPECT_FALSE(tool_calls_of(chat, "The answer is 63.").has_value());
  EXPECT_FALSE(tool_calls_of(chat, "<tool_call>\n{\"name\": \"lookup\", \"argu").has_value());
  const std::string plain = "{% for m in messages %}{{ m.content }}{% endfor %}";
  const chat::ModelChat tenx_syntax{chat::ChatTemplate::parse(plain, "plain"), "", "", plain, ""};
  EXPECT_FALSE(tool_calls_of(tenx_syntax, "<call>lookup(patient=17)</call>").has_value());
}

TEST(ServeStream, DeltasJoinedEqualTheAnswerWithoutStreamingOnBothEndpoints) {
  ChatServer s = start_chat(true);
  for (const bool chat : {false, true}) {
    const std::string path = chat ? "/v1/chat/completions" : "/v1/completions";
    OJson req = {{"model", "chat"}, {"max_tokens", 40}};
    if (chat) req["messages"] = kMessages;
    else req["prompt"] = "Where is the cat? It is";
    const OJson plain = OJson::parse(post_to(s.port, path, req)->body);
    const std::string want = chat ? plain["choices"][0]["message"]["content"] : plain["choices"][0]["text"];
    ASSERT_GE(want.size(), 6u) << plain.dump();
    // A stop string from the middle of the answer: the stream must not send what it cuts.
    const std::string stop = want.substr(want.size() / 2, 2);
    const OJson cut = [&] {
      OJson r = req;
      r["stop"] = stop;
      return OJson::parse(post_to(s.port, path, r)->body);
    }();
    for (const bool with_stop : {false, true}) {
      OJson r = req;
      r["stream"] = true;
      r["stream_options"] = {{"include_usage", true}};
      if (with_stop) r["stop"] = stop;
      const auto res = post_to(s.port, path, r);
      ASSERT_EQ(res->status, 200) << res->body;
      EXPECT_EQ(res->get_header_value("Content-Type"), "text/event-stream");
      const std::vector<OJson> events = events_of(res->body);
      ASSERT_GE(events.size(), 3u);
      EXPECT_EQ(events.back(), "[DONE]");
      const OJson& usage = events[events.size() - 2];
      EXPECT_TRUE(usage["choices"].empty());
      const OJson& base = with_stop ? cut : plain;
      EXPECT_EQ(usage["usage"]["completion_tokens"], base["usage"]["completion_tokens"]);
      EXPECT_EQ(usage["usage"]["flops"], base["usage"]["flops"]);
      std::string finish;
      const std::string text = joined_deltas(events, chat, finish);
      const std::string expected = chat ? base["choices"][0]["message"]["content"] : base["choices"][0]["text"];
      EXPECT_EQ(text, expected) << path << " stop " << with_stop;
      EXPECT_EQ(finish, base["choices"][0]["finish_reason"]);
      if (chat) {
        EXPECT_EQ(events[0]["choices"][0]["delta"]["role"], "assistant");
      }
      EXPECT_GT(events.size(), 4u) << "the text came in several chunks";
    }
  }
}

// A raw connection that sends one streaming request and reads `bytes` of the answer, then leaves.
void leave_mid_stream(int port, const std::string& body, size_t bytes) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
  const std::string req = "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
                          std::to_string(body.size()) + "\r\n\r\n" + body;
  ASSERT_EQ(::send(fd, req.data(), req.size(), MSG_NOSIGNAL), static_cast<ssize_t>(req.size()));
  std::string got;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (got.size() < bytes && std::chrono::steady_clock::now() < until) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buf[256];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  EXPECT_NE(got.find("data: "), std::string::npos) << got;
  ::close(fd);
}

TEST(ServeStream, AClientLeavingMidStreamFreesItsSequence) {
  // One slot: a leaked sequence would block the next request. 2000 tokens take long enough
  // (tens of ms even for this model) that the client is gone before they are done.
  ChatServer s = start_chat(true, 1, 2048, 2000);
  const OJson req = {{"model", "chat"}, {"prompt", "Once upon a time"}, {"max_tokens", 2000}, {"stream", true}};
  for (int i = 0; i < 3; ++i) leave_mid_stream(s.port, req.dump(), 300);
  // The server still serves, on its only slot.
  const auto after = post_to(s.port, "/v1/completions", {{"model", "chat"}, {"prompt", "Hello"}, {"max_tokens", 4}});
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  // The server notices a closed connection on its own thread, after the client has its answer:
  // wait for both the sequences and the connections to drain rather than racing them.
  while ((s.server->scheduler().stats().running_sequences != 0 || s.server->counts().open_connections != 0) &&
         std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const SchedulerStats st = s.server->scheduler().stats();
  EXPECT_EQ(st.running_sequences, 0u);
  EXPECT_EQ(st.waiting_requests, 0u);
  EXPECT_GE(st.cancelled_sequences, 1u) << "at least one stream was ended before its 2000 tokens";
  EXPECT_EQ(s.server->counts().open_connections, 0u) << "every connection was closed within 10 s";
}

}  // namespace
}  // namespace tenx::serve
