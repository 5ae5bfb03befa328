// parse_completion_request: the accepted forms, the defaults, and a 400 naming the field for
// every malformed or unsupported request.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "tenx/serve/request.hpp"

namespace tenx::serve {
namespace {

// The ApiError a body raises (status 0 when it parses).
ApiError error_of(const std::string& body) {
  try {
    parse_completion_request(body, 100);
  } catch (const ApiError& e) {
    return e;
  }
  return ApiError(0, "", "parsed");
}

TEST(ServeRequest, DefaultsOfAMinimalRequest) {
  const CompletionRequest r = parse_completion_request(R"({"model":"m","prompt":"Hello"})");
  EXPECT_EQ(r.model, "m");
  ASSERT_EQ(r.prompts.size(), 1u);
  EXPECT_EQ(r.prompts[0], "Hello");
  EXPECT_EQ(r.max_tokens, 16);
  EXPECT_TRUE(r.stop.empty());
  EXPECT_FALSE(r.echo);
  EXPECT_FALSE(r.logprobs.has_value());
}

TEST(ServeRequest, EveryField) {
  const CompletionRequest r = parse_completion_request(
      R"({"model":"m","prompt":["a","b c"],"max_tokens":0,"temperature":0,"top_p":1,"n":1,"best_of":1,
          "stop":["\n","END",""],"echo":true,"logprobs":5,"seed":1234,"stream":false,"user":"u",
          "frequency_penalty":0,"presence_penalty":0.0,"logit_bias":{},"suffix":null})");
  EXPECT_EQ(r.prompts, (std::vector<std::string>{"a", "b c"}));
  EXPECT_EQ(r.max_tokens, 0);
  EXPECT_EQ(r.stop, (std::vector<std::string>{"\n", "END"}));  // empty stop strings mean nothing
  EXPECT_TRUE(r.echo);
  EXPECT_EQ(r.logprobs, 5);
}

TEST(ServeRequest, NullsMeanTheDefault) {
  const CompletionRequest r = parse_completion_request(
      R"({"model":"m","prompt":"x","max_tokens":null,"stop":null,"echo":null,"logprobs":null,"temperature":null})");
  EXPECT_EQ(r.max_tokens, 16);
  EXPECT_FALSE(r.logprobs.has_value());
  EXPECT_EQ(parse_completion_request(R"({"model":"m","prompt":"x","stop":"###"})").stop,
            std::vector<std::string>{"###"});
  EXPECT_EQ(parse_completion_request(R"({"model":"m","prompt":"x","logprobs":0})").logprobs, 0);
}

TEST(ServeRequest, RejectsWithTheFieldNamed) {
  struct Case {
    const char* body;
    const char* param;
    const char* code;
  };
  const Case cases[] = {
      {R"({"model":"m","prompt":"x")", "", "invalid_json"},
      {R"([1,2])", "", "invalid_json"},
      {R"("text")", "", "invalid_json"},
      {R"({"prompt":"x"})", "model", "invalid_field"},
      {R"({"model":"m"})", "prompt", "invalid_field"},
      {R"({"model":7,"prompt":"x"})", "model", "invalid_field"},
      {R"({"model":"m","prompt":5})", "prompt", "invalid_field"},
      {R"({"model":"m","prompt":[]})", "prompt", "invalid_field"},
      {R"({"model":"m","prompt":[1,2,3]})", "prompt", "invalid_field"},
      {R"({"model":"m","prompt":[[1,2]]})", "prompt", "invalid_field"},
      {R"({"model":"m","prompt":["a",null]})", "prompt", "invalid_field"},
      {R"({"model":"m","prompt":"x","max_tokens":-1})", "max_tokens", "invalid_field"},
      {R"({"model":"m","prompt":"x","max_tokens":101})", "max_tokens", "invalid_field"},
      {R"({"model":"m","prompt":"x","max_tokens":1.5})", "max_tokens", "invalid_field"},
      {R"({"model":"m","prompt":"x","max_tokens":"16"})", "max_tokens", "invalid_field"},
      {R"({"model":"m","prompt":"x","max_tokens":18446744073709551615})", "max_tokens", "invalid_field"},
      {R"({"model":"m","prompt":"x","temperature":0.7})", "temperature", "invalid_field"},
      {R"({"model":"m","prompt":"x","temperature":-1})", "temperature", "invalid_field"},
      {R"({"model":"m","prompt":"x","temperature":"0"})", "temperature", "invalid_field"},
      {R"({"model":"m","prompt":"x","top_p":0})", "top_p", "invalid_field"},
      {R"({"model":"m","prompt":"x","n":2})", "n", "invalid_field"},
      {R"({"model":"m","prompt":"x","best_of":3})", "best_of", "invalid_field"},
      {R"({"model":"m","prompt":"x","stop":["a","b","c","d","e"]})", "stop", "invalid_field"},
      {R"({"model":"m","prompt":"x","stop":[1]})", "stop", "invalid_field"},
      {R"({"model":"m","prompt":"x","stop":3})", "stop", "invalid_field"},
      {R"({"model":"m","prompt":"x","echo":"yes"})", "echo", "invalid_field"},
      {R"({"model":"m","prompt":"x","logprobs":6})", "logprobs", "invalid_field"},
      {R"({"model":"m","prompt":"x","logprobs":-1})", "logprobs", "invalid_field"},
      {R"({"model":"m","prompt":"x","logprobs":true})", "logprobs", "invalid_field"},
      {R"({"model":"m","prompt":"x","stream":true,"logprobs":1})", "logprobs", "invalid_field"},
      {R"({"model":"m","prompt":"x","stream":"no"})", "stream", "invalid_field"},
      {R"({"model":"m","prompt":"x","seed":"s"})", "seed", "invalid_field"},
      {R"({"model":"m","prompt":"x","presence_penalty":0.5})", "presence_penalty", "invalid_field"},
      {R"({"model":"m","prompt":"x","logit_bias":{"1":5}})", "logit_bias", "invalid_field"},
      {R"({"model":"m","prompt":"x","suffix":"end"})", "suffix", "invalid_field"},
      {R"({"model":"m","prompt":"x","temprature":0})", "temprature", "invalid_field"},
  };
  for (const Case& c : cases) {
    const ApiError e = error_of(c.body);
    EXPECT_EQ(e.status(), 400) << c.body;
    EXPECT_EQ(e.param(), c.param) << c.body;
    EXPECT_EQ(e.code(), c.code) << c.body;
    if (*c.param) {
      EXPECT_NE(std::string(e.what()).find(c.param), std::string::npos) << e.what();
    }
  }
}

TEST(ServeRequest, ErrorBodyIsTheOpenAIObject) {
  const auto j = nlohmann::json::parse(error_body(error_of(R"({"model":"m","prompt":"x","stream":"yes"})")));
  EXPECT_EQ(j["error"]["type"], "invalid_request_error");
  EXPECT_EQ(j["error"]["param"], "stream");
  EXPECT_EQ(j["error"]["code"], "invalid_field");
  EXPECT_NE(j["error"]["message"].get<std::string>().find("stream"), std::string::npos);
  const auto busy = nlohmann::json::parse(error_body(ApiError(429, "queue_full", "busy")));
  EXPECT_EQ(busy["error"]["type"], "rate_limit_error");
  EXPECT_TRUE(busy["error"]["param"].is_null());
}

TEST(ServeRequest, ArbitraryBytesOnlyEverRaiseApiError) {
  std::mt19937 rng(5);
  const std::string base = R"({"model":"m","prompt":["a","b"],"max_tokens":3,"stop":["x"],"echo":true,"logprobs":2})";
  for (int i = 0; i < 2000; ++i) {
    std::string body = base;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < edits; ++k) {
      const size_t at = rng() % body.size();
      switch (rng() % 3) {
        case 0: body[at] = static_cast<char>(rng() % 256); break;
        case 1: body.erase(at, 1 + rng() % 5); break;
        default: body.insert(at, 1, "{}[]\",:0e-\\"[rng() % 11]); break;
      }
      if (body.empty()) body = "{";
    }
    try {
      parse_completion_request(body, 100);
    } catch (const ApiError& e) {
      EXPECT_GE(e.status(), 400);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "not an ApiError: " << e.what() << " for " << body;
    }
  }
}

}  // namespace
}  // namespace tenx::serve
