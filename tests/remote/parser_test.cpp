// The endpoint parser, the request body, the strict completions-response parser and the retry
// schedule (docs/remote.md).
#include <gtest/gtest.h>

#include "tenx/remote/client.hpp"
#include "tenx/remote/completion.hpp"
#include "tenx/remote/endpoint.hpp"
#include "tenx/util/error.hpp"

namespace tenx::remote {
namespace {

std::string parse_error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Endpoint, ParsesHostPortPathAndModel) {
  const Endpoint e = parse_endpoint("http://127.0.0.1:8080/v1#model=qwen-0.5b", "--model q");
  EXPECT_EQ(e.scheme, "http");
  EXPECT_EQ(e.host, "127.0.0.1");
  EXPECT_EQ(e.port, 8080);
  EXPECT_EQ(e.base_path, "/v1");
  EXPECT_EQ(e.model_id, "qwen-0.5b");
  EXPECT_EQ(e.url(), "http://127.0.0.1:8080/v1#model=qwen-0.5b");
  const Endpoint s = parse_endpoint("https://api.example.org/v1/", "--model x", "x");
  EXPECT_EQ(s.port, 443);
  EXPECT_EQ(s.base_path, "/v1");
  EXPECT_EQ(s.model_id, "x");
  const Endpoint v6 = parse_endpoint("http://[::1]:9000/v1#model=m", "--model m");
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.port, 9000);
  EXPECT_TRUE(is_endpoint("https://h/v1"));
  EXPECT_FALSE(is_endpoint("models/http.gguf"));
}

TEST(Endpoint, BadUrlsNameTheArgumentAndTheProblem) {
  EXPECT_NE(parse_error_of([] { parse_endpoint("ftp://h/v1#model=m", "--model a"); }).find("--model a: "), std::string::npos);
  EXPECT_NE(parse_error_of([] { parse_endpoint("http://h:99999/v1#model=m", "--model a"); }).find("port"), std::string::npos);
  EXPECT_NE(parse_error_of([] { parse_endpoint("http://h:x/v1#model=m", "--model a"); }).find("port"), std::string::npos);
  EXPECT_NE(parse_error_of([] { parse_endpoint("http://:80/v1#model=m", "--model a"); }).find("host"), std::string::npos);
  EXPECT_NE(parse_error_of([] { parse_endpoint("http://h/v1#mode=m", "--model a"); }).find("#model=ID"), std::string::npos);
  EXPECT_NE(parse_error_of([] { parse_endpoint("http://h/v1", "--model a"); }).find("no model id"), std::string::npos);
  EXPECT_NE(parse_error_of([] { parse_endpoint("http://h/v1#model=", "--model a"); }).find("names no model"),
            std::string::npos);
}

TEST(Request, BodyIsCanonical) {
  CompletionRequest r;
  r.prompts = {"a", "b"};
  r.echo = true;
  r.logprobs = 1;
  EXPECT_EQ(request_json(r, "m").dump(),
            R"({"model":"m","prompt":["a","b"],"max_tokens":0,"temperature":0,"echo":true,"logprobs":1})");
  CompletionRequest g;
  g.prompts = {"Q:"};
  g.max_tokens = 8;
  g.stop = {"\n"};
  EXPECT_EQ(request_json(g, "m").dump(),
            R"({"model":"m","prompt":"Q:","max_tokens":8,"temperature":0,"stop":["\n"],"echo":false,"logprobs":null})");
}

const char* kGood = R"({"choices":[
  {"index":1,"text":"ab","finish_reason":"stop","logprobs":{"tokens":["a","b"],"token_logprobs":[null,-0.5],
   "top_logprobs":null,"text_offset":[0,1]}},
  {"index":0,"text":"x","finish_reason":null,"logprobs":null}],
  "usage":{"prompt_tokens":3,"completion_tokens":0,"total_tokens":3,"flops":12345}})";

TEST(ResponseParser, ReadsChoicesInIndexOrderAndUsage) {
  const CompletionResponse r = parse_completion_response(kGood, 2);
  ASSERT_EQ(r.choices.size(), 2u);
  EXPECT_EQ(r.choices[0].text, "x");
  EXPECT_FALSE(r.choices[0].has_logprobs);
  EXPECT_EQ(r.choices[1].text, "ab");
  ASSERT_TRUE(r.choices[1].has_logprobs);
  EXPECT_FALSE(r.choices[1].token_logprobs[0].has_value());
  EXPECT_DOUBLE_EQ(*r.choices[1].token_logprobs[1], -0.5);
  EXPECT_EQ(r.choices[1].text_offset, (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(r.usage.prompt_tokens, 3);
  EXPECT_EQ(r.usage.flops, 12345u);
}

TEST(ResponseParser, RejectsWhatIsMissingOrWrongByName) {
  const std::string good = kGood;
  EXPECT_NE(parse_error_of([&] { parse_completion_response(good.substr(0, good.size() / 2)); }).find("not valid JSON"),
            std::string::npos);
  EXPECT_NE(parse_error_of([&] { parse_completion_response(good, 3); }).find("2 choices for 3 prompts"), std::string::npos);
  EXPECT_NE(parse_error_of([] { parse_completion_response(R"({"usage":{"prompt_tokens":1}})"); }).find("missing 'choices'"),
            std::string::npos);
  EXPECT_NE(parse_error_of([] { parse_completion_response(R"({"choices":[]})"); }).find("missing 'usage'"),
            std::string::npos);
  EXPECT_NE(parse_error_of([] { parse_completion_response(R"({"choices":[{"index":0}],"usage":{"prompt_tokens":1}})"); })
                .find("choices/0: missing 'text'"),
            std::string::npos);
  EXPECT_NE(parse_error_of([] {
              parse_completion_response(
                  R"({"choices":[{"index":0,"text":1}],"usage":{"prompt_tokens":1}})");
            }).find("choices/0/text: expected a string"),
            std::string::npos);
  EXPECT_NE(parse_error_of([] {
              parse_completion_response(
                  R"({"choices":[{"index":0,"text":"","logprobs":{"tokens":["a"],"token_logprobs":[-1,-2]}}],"usage":{"prompt_tokens":1}})");
            }).find("token_logprobs: 2 entries"),
            std::string::npos);
  EXPECT_NE(parse_error_of([] {
              parse_completion_response(
                  R"({"choices":[{"index":0,"text":"","logprobs":{"token_logprobs":["x"]}}],"usage":{"prompt_tokens":1}})");
            }).find("token_logprobs/0: expected a number or null"),
            std::string::npos);
  EXPECT_NE(parse_error_of([] {
              parse_completion_response(R"({"choices":[{"index":3,"text":""}],"usage":{"prompt_tokens":1}})");
            }).find("indices"),
            std::string::npos);
  EXPECT_NE(parse_error_of([] {
              parse_completion_response(R"({"choices":[{"index":0,"text":""}],"usage":{"prompt_tokens":-4}})");
            }).find("usage/prompt_tokens"),
            std::string::npos);
  EXPECT_NE(parse_error_of([] { parse_completion_response(R"({"error":{"message":"model not loaded"}})"); })
                .find("model not loaded"),
            std::string::npos);
  EXPECT_NE(parse_error_of([] { parse_completion_response("[1,2]"); }).find("expected a JSON object"), std::string::npos);
}

TEST(RetrySchedule, DoublesFromTheInitialWaitUpToTheCapAndHonoursRetryAfter) {
  ClientOptions o;
  o.backoff_initial = 1;
  o.backoff_max = 30;
  o.retry_after_max = 120;
  const double expected[] = {1, 2, 4, 8, 16, 30, 30};
  for (int k = 0; k < 7; ++k) EXPECT_DOUBLE_EQ(retry_delay(o, k, std::nullopt), expected[k]) << k;
  EXPECT_DOUBLE_EQ(retry_delay(o, 0, 7.0), 7.0);     // longer than the schedule: the server's
  EXPECT_DOUBLE_EQ(retry_delay(o, 3, 2.0), 8.0);     // shorter: the schedule's
  EXPECT_DOUBLE_EQ(retry_delay(o, 0, 1000.0), 120.0);  // capped
}

}  // namespace
}  // namespace tenx::remote
