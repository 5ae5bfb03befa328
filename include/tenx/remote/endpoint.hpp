#pragma once
// A model behind an OpenAI-compatible server, as `--model NAME=http://HOST:PORT/v1#model=ID` names
// it (docs/remote.md). The fragment names the server's model id; without it the id is NAME's.
#include <string>
#include <string_view>

namespace tenx::remote {

struct Endpoint {
  std::string scheme;     // "http" or "https"
  std::string host;
  int port = 0;
  std::string base_path;  // "/v1" (no trailing slash; "" for the root)
  std::string model_id;   // the "model" field of every request
  std::string api = "completions";  // "completions" (/v1/completions) or "chat" (/v1/chat/completions)

  std::string origin() const;  // "http://HOST:PORT"
  // origin + base_path + "#model=" + model_id, and "&api=chat" for the chat API (what run.json records)
  std::string url() const;
};

// True when the text starts with http:// or https:// (a --model PATH that is a server).
bool is_endpoint(std::string_view text);

// Parses http(s)://HOST[:PORT][/PATH][#model=ID][&api=completions|chat] (the fragment's keys in
// any order). The port defaults to 80 / 443; `default_model`
// is the id when there is no fragment. Throws tenx::Error(arg, ...) naming what is wrong.
Endpoint parse_endpoint(std::string_view text, const std::string& arg, const std::string& default_model = "");

}  // namespace tenx::remote
