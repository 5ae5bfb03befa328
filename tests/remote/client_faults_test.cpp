// The completions client against the in-process fake server (fake_server.hpp) with scripted
// faults: what is retried (connection refused, timeouts, 429, 5xx, truncated JSON), after which
// waits, what is not (other 4xx, a malformed response), and the errors' words.
#include <gtest/gtest.h>

#include <mutex>

#include "fake_server.hpp"
#include "tenx/eval/run/remote_item_runner.hpp"
#include "tenx/remote/client.hpp"
#include "tenx/util/error.hpp"

namespace tenx::remote {
namespace {

using testing::Fault;
using testing::FakeServer;

// Options that record the waits instead of sleeping them.
struct Recorder {
  std::mutex mu;
  std::vector<double> waits;
  ClientOptions options(int retries = 3) {
    ClientOptions o;
    o.max_retries = retries;
    o.backoff_initial = 0.5;
    o.backoff_max = 4;
    o.retry_after_max = 60;
    o.connect_timeout = 2;
    o.read_timeout = 5;
    o.sleep = [this](double s) {
      std::lock_guard<std::mutex> lock(mu);
      waits.push_back(s);
    };
    return o;
  }
};

CompletionRequest echo_request(std::vector<std::string> prompts) {
  CompletionRequest r;
  r.prompts = std::move(prompts);
  r.echo = true;
  r.logprobs = 1;
  return r;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ClientFaults, HealthyServerAnswersInOneAttempt) {
  FakeServer server;
  Recorder rec;
  CompletionClient client(parse_endpoint(server.url(), "--model f"), rec.options());
  const CallResult r = client.complete(echo_request({"ab", "abc"}));
  EXPECT_EQ(r.attempts, 1);
  ASSERT_EQ(r.response.choices.size(), 2u);
  EXPECT_EQ(r.response.choices[1].tokens.size(), 3u);
  EXPECT_EQ(r.response.usage.prompt_tokens, 5);
  EXPECT_GE(r.seconds, r.ttfb);
  EXPECT_TRUE(rec.waits.empty());
}

TEST(ClientFaults, ServerDownIsRetriedOnTheScheduleThenAClearError) {
  Recorder rec;
  const std::string url = "http://127.0.0.1:" + std::to_string(testing::dead_port()) + "/v1#model=m";
  CompletionClient client(parse_endpoint(url, "--model m"), rec.options(3));
  const std::string e = error_of([&] { client.complete(echo_request({"a"})); });
  EXPECT_NE(e.find("/v1/completions"), std::string::npos) << e;
  EXPECT_NE(e.find("is the server running?"), std::string::npos) << e;
  EXPECT_NE(e.find("gave up after 4 attempts"), std::string::npos) << e;
  EXPECT_NE(e.find("--resume"), std::string::npos) << e;
  EXPECT_EQ(client.requests_sent(), 4);
  EXPECT_EQ(rec.waits, (std::vector<double>{0.5, 1, 2}));
}

TEST(ClientFaults, Error500IsRetriedThenSucceeds) {
  FakeServer server;
  server.script(Fault::error_500, 2);
  Recorder rec;
  CompletionClient client(parse_endpoint(server.url(), "--model f"), rec.options(3));
  const CallResult r = client.complete(echo_request({"ab"}));
  EXPECT_EQ(r.attempts, 3);
  EXPECT_EQ(server.requests(), 3);
  EXPECT_EQ(rec.waits, (std::vector<double>{0.5, 1}));
}

TEST(ClientFaults, Error500ForeverGivesUpNamingTheStatusAndMessage) {
  FakeServer server;
  server.script(Fault::error_500);
  Recorder rec;
  CompletionClient client(parse_endpoint(server.url(), "--model f"), rec.options(2));
  const std::string e = error_of([&] { client.complete(echo_request({"ab"})); });
  EXPECT_NE(e.find("HTTP 500: scripted failure"), std::string::npos) << e;
  EXPECT_NE(e.find("gave up after 3 attempts"), std::string::npos) << e;
  EXPECT_EQ(server.requests(), 3);
}

TEST(ClientFaults, Error429WaitsForRetryAfter) {
  FakeServer server;
  server.retry_after = 3;
  server.script(Fault::error_429, 1);
  Recorder rec;
  CompletionClient client(parse_endpoint(server.url(), "--model f"), rec.options(3));
  const CallResult r = client.complete(echo_request({"ab"}));
  EXPECT_EQ(r.attempts, 2);
  EXPECT_EQ(rec.waits, (std::vector<double>{3}));  // the server's 3 s, longer than the schedule's 0.5 s
}

TEST(ClientFaults, SlowServerTimesOutAndIsRetried) {
  FakeServer server;
  server.slow_seconds = 1.0;
  server.script(Fault::slow, 1);
  Recorder rec;
  ClientOptions o = rec.options(2);
  o.read_timeout = 0.2;
  CompletionClient client(parse_endpoint(server.url(), "--model f"), o);
  const CallResult r = client.complete(echo_request({"ab"}));
  EXPECT_EQ(r.attempts, 2);
  EXPECT_EQ(rec.waits, (std::vector<double>{0.5}));

  server.script(Fault::slow);
  ClientOptions once = rec.options(0);
  once.read_timeout = 0.2;
  CompletionClient impatient(parse_endpoint(server.url(), "--model f"), once);
  const std::string e = error_of([&] { impatient.complete(echo_request({"ab"})); });
  EXPECT_NE(e.find("read timeout of 0.2 s"), std::string::npos) << e;
}

TEST(ClientFaults, TruncatedJsonIsRetriedAndNamedWhenItPersists) {
  FakeServer server;
  server.script(Fault::truncated, 1);
  Recorder rec;
  CompletionClient client(parse_endpoint(server.url(), "--model f"), rec.options(2));
  EXPECT_EQ(client.complete(echo_request({"ab"})).attempts, 2);
  server.script(Fault::truncated);
  const std::string e = error_of([&] { client.complete(echo_request({"ab"})); });
  EXPECT_NE(e.find("not valid JSON"), std::string::npos) << e;
  EXPECT_NE(e.find("truncated?"), std::string::npos) << e;
}

TEST(ClientFaults, OtherClientErrorsAndMalformedResponsesAreNotRetried) {
  FakeServer server;
  Recorder rec;
  CompletionClient client(parse_endpoint(server.url(), "--model f"), rec.options(3));
  server.script(Fault::error_400, 1);
  std::string e = error_of([&] { client.complete(echo_request({"ab"})); });
  EXPECT_NE(e.find("HTTP 400: unknown field 'bogus' (not retried"), std::string::npos) << e;
  EXPECT_EQ(server.requests(), 1);
  server.script(Fault::wrong_choices, 1);
  e = error_of([&] { client.complete(echo_request({"ab", "cd"})); });
  EXPECT_NE(e.find("1 choices for 2 prompts"), std::string::npos) << e;
  EXPECT_EQ(server.requests(), 2);
  server.script(Fault::context_400, 1);
  EXPECT_THROW(client.complete(echo_request({"ab"})), ContextError);
  EXPECT_TRUE(rec.waits.empty());
}

TEST(ClientFaults, MissingLogprobsIsAClearErrorForChoiceItems) {
  FakeServer server;
  server.script(Fault::refuse_logprobs);
  Recorder rec;
  CompletionClient client(parse_endpoint(server.url(), "--model f"), rec.options(3));
  eval::RemoteItemRunner runner(client, nullptr);
  suites::Item item;
  item.id = "c1";
  item.task = "t";
  item.body = suites::ChoiceBody{"Q: x?", {" yes", " no"}, 0};
  const std::string e = error_of([&] { runner.run(item); });
  EXPECT_NE(e.find("does not return prompt log-probabilities (echo+logprobs); choice items need them"),
            std::string::npos)
      << e;
  EXPECT_EQ(server.requests(), 1);  // not retried
}

TEST(ClientFaults, ConcurrencyLimitHoldsRequestsInFlight) {
  FakeServer server;
  server.slow_seconds = 0.05;
  server.script(Fault::slow);
  Recorder rec;
  ClientOptions o = rec.options(0);
  o.concurrency = 2;
  CompletionClient client(parse_endpoint(server.url(), "--model f"), o);
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) threads.emplace_back([&] { client.complete(echo_request({"ab"})); });
  for (auto& t : threads) t.join();
  EXPECT_EQ(server.requests(), 6);
  EXPECT_LE(server.max_in_flight(), 2);
}

}  // namespace
}  // namespace tenx::remote
