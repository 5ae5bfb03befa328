// tenx serve over HTTP on 127.0.0.1: the endpoints, the error statuses, 16 concurrent clients,
// and the CLI (`tenx serve --port 0` as a child, stopped by SIGTERM).
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cmath>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "serve_fixture.hpp"
#include "tenx/serve/server.hpp"

namespace tenx::serve {
namespace {

using nlohmann::json;
using test::serve_model;

struct Running {
  std::unique_ptr<Server> server;
  int port = 0;
};

Running start(int parallel, int max_queue = 64) {
  const auto& m = serve_model();
  ServerOptions o;
  o.port = 0;
  o.model_id = "tiny";
  o.max_tokens_limit = 64;
  o.scheduler.parallel = parallel;
  o.scheduler.n_ctx = 128;
  o.scheduler.max_queue = max_queue;
  o.scheduler.max_batch = 64;
  Running r;
  r.server = std::make_unique<Server>(m.model, m.tokenizer, o);
  r.port = r.server->start();
  return r;
}

httplib::Result post(int port, const json& body) {
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(60, 0);
  return c.Post("/v1/completions", body.dump(), "application/json");
}

json body_of(const httplib::Result& r) { return json::parse(r->body); }

// A byte string as the server writes it in JSON: invalid UTF-8 replaced by U+FFFD.
json utf8_as_served(const std::string& bytes) {
  return json::parse(json(bytes).dump(-1, ' ', false, json::error_handler_t::replace));
}

TEST(ServeHttp, HealthAndModels) {
  Running s = start(2);
  httplib::Client c("127.0.0.1", s.port);
  auto h = c.Get("/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(body_of(h), json({{"status", "ok"}}));
  auto models = c.Get("/v1/models");
  ASSERT_TRUE(models);
  const json j = body_of(models);
  EXPECT_EQ(j["object"], "list");
  ASSERT_EQ(j["data"].size(), 1u);
  EXPECT_EQ(j["data"][0]["id"], "tiny");
  EXPECT_EQ(j["data"][0]["owned_by"], "tenx");
  EXPECT_EQ(j["data"][0]["meta"]["n_params"], serve_model().model.n_params());
  EXPECT_EQ(j["data"][0]["meta"]["n_ctx"], 128);
  EXPECT_EQ(j["data"][0]["meta"]["n_vocab"], serve_model().model.config.n_vocab);
  auto missing = c.Get("/v1/nothing");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_TRUE(body_of(missing).contains("error"));
}

// What lm-evaluation-harness's local-completions sends for a log-likelihood.
TEST(ServeHttp, LoglikelihoodRequestMatchesTheDecoder) {
  Running s = start(2);
  const std::string context = "Question: is the sky blue? Answer:", continuation = " yes";
  auto r = post(s.port, {{"model", "tiny"}, {"prompt", context + continuation}, {"max_tokens", 0},
                         {"echo", true}, {"logprobs", 1}, {"temperature", 0}, {"seed", 1234}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const json j = body_of(r);
  EXPECT_EQ(j["object"], "text_completion");
  EXPECT_EQ(j["model"], "tiny");
  EXPECT_EQ(j["id"].get<std::string>().rfind("cmpl-", 0), 0u);
  const json& c = j["choices"][0];
  EXPECT_EQ(c["index"], 0);
  EXPECT_EQ(c["text"], context + continuation);
  const json& lp = c["logprobs"];
  EXPECT_TRUE(lp["token_logprobs"][0].is_null());
  EXPECT_TRUE(lp["top_logprobs"][0].is_null());
  double ll = 0;
  for (size_t i = 0; i < lp["tokens"].size(); ++i)
    if (lp["text_offset"][i].get<size_t>() >= context.size()) ll += lp["token_logprobs"][i].get<double>();
  const auto& m = serve_model();
  const auto ids = test::oracle_prompt_ids(m.tokenizer, context + continuation);
  const auto want = test::oracle_logprobs(m.model, ids);
  const size_t n_context = test::oracle_prompt_ids(m.tokenizer, context).size();
  double expected = 0;
  for (size_t i = n_context; i < ids.size(); ++i) expected += want[i];
  EXPECT_NEAR(ll, expected, 1e-5);
  EXPECT_EQ(j["usage"]["prompt_tokens"], ids.size());
  EXPECT_EQ(j["usage"]["completion_tokens"], 0);
  EXPECT_EQ(j["usage"]["total_tokens"], ids.size());
  EXPECT_GT(j["usage"]["flops"].get<uint64_t>(), 0u);
  EXPECT_EQ(j["usage"]["flops_convention"], "counted by tenx kernels, 1 multiply-add = 2 FLOPs");
}

TEST(ServeHttp, GreedyCompletionWithStop) {
  Running s = start(2);
  const auto& m = serve_model();
  const std::string prompt = "Once upon a time";
  const auto ids = test::oracle_prompt_ids(m.tokenizer, prompt);
  const std::string full = test::pieces(m.tokenizer, test::oracle_greedy(m.model, m.tokenizer, ids, 10));
  auto r = post(s.port, {{"model", "tiny"}, {"prompt", prompt}, {"max_tokens", 10}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const json j = body_of(r);
  EXPECT_EQ(j["choices"][0]["text"], utf8_as_served(full));
  EXPECT_TRUE(j["choices"][0]["logprobs"].is_null());
  // A stop string of two ASCII bytes from the middle of the text (the random model writes any bytes).
  size_t at = full.size() / 3;
  while (at + 1 < full.size() && !(std::isalnum(static_cast<unsigned char>(full[at])) &&
                                   std::isalnum(static_cast<unsigned char>(full[at + 1]))))
    ++at;
  if (at + 1 >= full.size()) GTEST_SKIP() << "no ASCII pair in the greedy text to use as a stop string";
  const std::string stop = full.substr(at, 2);
  auto cut = post(s.port, {{"model", "tiny"}, {"prompt", prompt}, {"max_tokens", 10}, {"stop", stop}});
  ASSERT_TRUE(cut);
  EXPECT_EQ(body_of(cut)["choices"][0]["text"], utf8_as_served(full.substr(0, full.find(stop))));
  EXPECT_EQ(body_of(cut)["choices"][0]["finish_reason"], "stop");
}

TEST(ServeHttp, ErrorStatuses) {
  Running s = start(1);
  auto expect = [&](const std::string& body, int status, const std::string& param) {
    httplib::Client c("127.0.0.1", s.port);
    auto r = c.Post("/v1/completions", body, "application/json");
    ASSERT_TRUE(r) << body;
    EXPECT_EQ(r->status, status) << body;
    const json j = body_of(r);
    ASSERT_TRUE(j.contains("error")) << r->body;
    EXPECT_TRUE(j["error"].contains("message"));
    EXPECT_TRUE(j["error"].contains("type"));
    EXPECT_TRUE(j["error"].contains("code"));
    if (!param.empty()) {
      EXPECT_EQ(j["error"]["param"], param) << r->body;
    }
  };
  expect("{not json", 400, "");
  expect(R"({"model":"tiny","prompt":"x","temperature":1})", 400, "temperature");
  expect(R"({"model":"tiny","prompt":"x","stream":true,"logprobs":1})", 400, "logprobs");
  expect(R"({"model":"tiny","prompt":"x","max_tokens":65})", 400, "max_tokens");
  expect(R"({"model":"other","prompt":"x"})", 404, "model");
  expect(R"({"model":"tiny","prompt":")" + std::string(300, 'q') + R"("})", 400, "prompt");
}

TEST(ServeHttp, FullQueueAnswers429WithRetryAfter) {
  Running s = start(1, 1);
  s.server->scheduler().set_paused(true);
  int first_status = 0;
  std::thread waiting([&] {
    auto r = post(s.port, {{"model", "tiny"}, {"prompt", "queued"}, {"max_tokens", 2}});
    first_status = r ? r->status : -1;
  });
  while (s.server->scheduler().stats().waiting_requests < 1) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  auto busy = post(s.port, {{"model", "tiny"}, {"prompt", "rejected"}, {"max_tokens", 2}});
  ASSERT_TRUE(busy);
  EXPECT_EQ(busy->status, 429);
  EXPECT_EQ(busy->get_header_value("Retry-After"), "1");
  EXPECT_EQ(body_of(busy)["error"]["code"], "queue_full");
  s.server->scheduler().set_paused(false);
  waiting.join();
  EXPECT_EQ(first_status, 200);
}

// 16 clients at once over 4 slots, each a different prompt: no response is lost or mixed up.
TEST(ServeHttp, ConcurrentClientsGetTheirOwnResults) {
  const auto& m = serve_model();
  const int n = 16;
  std::vector<json> sequential(n), concurrent(n);
  {
    Running one = start(1);
    for (int i = 0; i < n; ++i)
      sequential[i] = body_of(post(one.port, {{"model", "tiny"}, {"prompt", test::numbered_prompt(i)},
                                              {"max_tokens", 4 + i % 3}, {"echo", true}, {"logprobs", 1}}));
  }
  Running s = start(4);
  std::vector<std::thread> clients;
  for (int i = 0; i < n; ++i)
    clients.emplace_back([&, i] {
      auto r = post(s.port, {{"model", "tiny"}, {"prompt", test::numbered_prompt(i)}, {"max_tokens", 4 + i % 3},
                             {"echo", true}, {"logprobs", 1}});
      if (r && r->status == 200) concurrent[i] = body_of(r);
      else concurrent[i] = r ? r->status : -static_cast<int>(r.error());  // shown when it fails
    });
  for (auto& t : clients) t.join();
  for (int i = 0; i < n; ++i) {
    SCOPED_TRACE(i);
    ASSERT_TRUE(concurrent[i].is_object()) << concurrent[i].dump();
    const json& got = concurrent[i]["choices"][0];
    const json& want = sequential[i]["choices"][0];
    EXPECT_EQ(got["text"].get<std::string>().rfind(test::numbered_prompt(i), 0), 0u);
    EXPECT_EQ(got["text"], want["text"]);
    EXPECT_EQ(got["logprobs"]["tokens"], want["logprobs"]["tokens"]);
    for (size_t k = 1; k < want["logprobs"]["token_logprobs"].size(); ++k)
      EXPECT_NEAR(got["logprobs"]["token_logprobs"][k].get<double>(),
                  want["logprobs"]["token_logprobs"][k].get<double>(), 1e-5);
    EXPECT_EQ(concurrent[i]["usage"], sequential[i]["usage"]);
  }
  const SchedulerStats st = s.server->scheduler().stats();
  EXPECT_EQ(st.requests, static_cast<uint64_t>(n));
  EXPECT_EQ(st.attributed_flops, st.counted_flops);
  (void)m;
}

TEST(ServeHttp, CliServesAndStopsOnSigterm) {
  // The model file of the fixture, through the real binary.
  const auto& m = serve_model();
  const std::string path = m.model.file.path;
  int err_pipe[2];
  ASSERT_EQ(pipe(err_pipe), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    dup2(err_pipe[1], 2);
    close(err_pipe[0]);
    close(err_pipe[1]);
    execl(TENX_BINARY, TENX_BINARY, "serve", path.c_str(), "--port", "0", "--parallel", "2", "--ctx", "64",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(err_pipe[1]);
  // Whatever fails below, the child does not outlive the test.
  struct Reaper {
    pid_t pid;
    bool reaped = false;
    ~Reaper() {
      if (!reaped) {
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
      }
    }
  } reaper{pid};
  std::string err;
  int port = 0;
  const std::regex listening(R"(listening on http://127\.0\.0\.1:(\d+)/v1 \(model serve-tiny\))");
  char buf[256];
  while (port == 0) {
    const ssize_t got = read(err_pipe[0], buf, sizeof buf);
    if (got <= 0) break;
    err.append(buf, static_cast<size_t>(got));
    std::smatch mm;
    if (std::regex_search(err, mm, listening)) port = std::stoi(mm[1]);
  }
  ASSERT_GT(port, 0) << err;
  auto r = post(port, {{"model", "serve-tiny"}, {"prompt", "Hello"}, {"max_tokens", 3}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  reaper.reaped = true;
  while (read(err_pipe[0], buf, sizeof buf) > 0) {}
  close(err_pipe[0]);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace tenx::serve
