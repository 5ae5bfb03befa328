#pragma once
// Reader of llama.cpp's tokenizer test fixtures (tests/test-tokenizer-0): NAME.gguf
// (a vocabulary), NAME.gguf.inp (texts, each followed by "\n__ggml_vocab_test__\n")
// and NAME.gguf.out (one line per text, " {id}" per id). Standard C++ only, so any
// fixture in that format can be dropped in and checked by any tokenizer.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace vocab_fixture {

struct Case {
  std::string text;
  std::vector<int32_t> ids;
};

struct Fixture {
  std::string gguf;  // path of NAME.gguf
  std::vector<Case> cases;
};

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error(p.string() + ": cannot open");
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Texts of a .inp file: every text ends with the separator (the file too).
inline std::vector<std::string> parse_inputs(const std::string& data, const std::string& where) {
  static const std::string kSep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> texts;
  size_t pos = 0;
  while (pos < data.size()) {
    const size_t hit = data.find(kSep, pos);
    if (hit == std::string::npos) throw std::runtime_error(where + ": text without a trailing separator");
    texts.push_back(data.substr(pos, hit - pos));
    pos = hit + kSep.size();
  }
  return texts;
}

// Lines of a .out file, each a list of " {id}".
inline std::vector<std::vector<int32_t>> parse_outputs(const std::string& data, const std::string& where) {
  std::vector<std::vector<int32_t>> lines;
  size_t pos = 0;
  while (pos < data.size()) {
    size_t end = data.find('\n', pos);
    if (end == std::string::npos) end = data.size();
    std::istringstream line(data.substr(pos, end - pos));
    std::vector<int32_t> ids;
    long long id;
    while (line >> id) ids.push_back(static_cast<int32_t>(id));
    if (!line.eof()) throw std::runtime_error(where + ": line " + std::to_string(lines.size() + 1) + " is not a list of ids");
    lines.push_back(std::move(ids));
    pos = end + 1;
  }
  return lines;
}

inline Fixture load(const std::filesystem::path& gguf) {
  Fixture f;
  f.gguf = gguf.string();
  const std::string inp = f.gguf + ".inp", out = f.gguf + ".out";
  const auto texts = parse_inputs(read_file(inp), inp);
  const auto ids = parse_outputs(read_file(out), out);
  if (texts.size() != ids.size())
    throw std::runtime_error(f.gguf + ": " + std::to_string(texts.size()) + " texts but " +
                             std::to_string(ids.size()) + " id lines");
  for (size_t i = 0; i < texts.size(); ++i) f.cases.push_back({texts[i], ids[i]});
  return f;
}

// NAME.gguf for every NAME.gguf.inp in `dir` (sorted; none when dir is missing).
inline std::vector<std::filesystem::path> find(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    const std::string suffix = ".gguf.inp";
    if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      out.push_back(e.path().parent_path() / name.substr(0, name.size() - 4));
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace vocab_fixture
