// Readers of data/raw/. gzip is decoded with stb_image's inflate (image.cpp compiles stb with
// zlib support), because tenx_core links no zlib; the gzip trailer's CRC-32 is checked here.
#include "tenx/suites/raw_data.hpp"

#include <fmt/format.h>
#include <stb/stb_image.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "tenx/util/error.hpp"
#include "tenx/util/read_file.hpp"

namespace tenx::suites {
namespace {

std::uint32_t crc32(const std::string& data) {
  std::uint32_t crc = 0xffffffffu;
  for (unsigned char ch : data) {
    crc ^= ch;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

std::vector<std::string> split(const std::string& line, char sep) {
  std::vector<std::string> out;
  size_t begin = 0;
  for (;;) {
    size_t end = line.find(sep, begin);
    out.push_back(line.substr(begin, end - begin));
    if (end == std::string::npos) break;
    begin = end + 1;
  }
  return out;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

double parse_double(const std::string& text, const std::string& where) {
  char* end = nullptr;
  // strtod is correctly rounded in glibc: the same double for the same text everywhere
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size()) throw Error(where, "not a number: \"" + text + "\"");
  return v;
}

// Whitespace- or comma-separated numbers of one line.
std::vector<std::string> fields_of(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : line) {
    if (ch == ',' || ch == ' ' || ch == '\t') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += ch;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

}  // namespace

std::string gunzip(const std::string& bytes, const std::string& subject) {
  if (bytes.size() < 18 || static_cast<unsigned char>(bytes[0]) != 0x1f || static_cast<unsigned char>(bytes[1]) != 0x8b)
    throw Error(subject, "not a gzip file");
  if (bytes[2] != 8) throw Error(subject, "gzip: unknown compression method");
  const unsigned flags = static_cast<unsigned char>(bytes[3]);
  size_t pos = 10;
  auto need = [&](size_t n) {
    if (pos + n > bytes.size()) throw Error(subject, "gzip: truncated header");
  };
  if (flags & 4) {  // FEXTRA
    need(2);
    size_t xlen = static_cast<unsigned char>(bytes[pos]) | (static_cast<unsigned char>(bytes[pos + 1]) << 8);
    pos += 2 + xlen;
  }
  for (unsigned bit : {8u, 16u}) {  // FNAME, FCOMMENT: zero-terminated
    if (flags & bit) {
      while (pos < bytes.size() && bytes[pos] != 0) ++pos;
      ++pos;
    }
  }
  if (flags & 2) pos += 2;  // FHCRC
  need(8);
  int out_len = 0;
  char* out = stbi_zlib_decode_noheader_malloc(bytes.data() + pos, static_cast<int>(bytes.size() - pos), &out_len);  // the 8 trailer bytes as slack: stb may read ahead
  if (!out) throw Error(subject, "gzip: corrupt deflate data");
  std::string text(out, static_cast<size_t>(out_len));
  std::free(out);
  auto le32 = [&](size_t at) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at])) |
           (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + 1])) << 8) |
           (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + 2])) << 16) |
           (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + 3])) << 24);
  };
  if (le32(bytes.size() - 8) != crc32(text)) throw Error(subject, "gzip: CRC-32 mismatch");
  if (le32(bytes.size() - 4) != static_cast<std::uint32_t>(text.size())) throw Error(subject, "gzip: size mismatch");
  return text;
}

std::string read_raw_file(const std::filesystem::path& file) {
  std::string bytes = read_file(file, "the raw data file (see data/raw/README.md)");
  if (file.extension() == ".gz") return gunzip(bytes, file.string());
  return bytes;
}

std::vector<DigitImage> read_digits(const std::filesystem::path& raw_dir) {
  const auto file = raw_dir / "sklearn" / "digits.csv.gz";
  auto lines = lines_of(read_raw_file(file));
  std::vector<DigitImage> out;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string where = fmt::format("{}:{}", file.string(), i + 1);
    auto f = split(lines[i], ',');
    if (f.size() != 65) throw Error(where, fmt::format("expected 65 values, got {}", f.size()));
    DigitImage d;
    d.row = static_cast<int>(i);
    for (int k = 0; k < 65; ++k) {
      double v = parse_double(f[k], where);
      if (v != static_cast<int>(v) || v < 0 || v > (k == 64 ? 9 : 16)) throw Error(where, "value out of range: " + f[k]);
      if (k < 64) d.pixels[k] = static_cast<std::uint8_t>(v);
      else d.label = static_cast<int>(v);
    }
    out.push_back(d);
  }
  if (out.size() != 1797) throw Error(file.string(), fmt::format("expected 1797 digits, got {}", out.size()));
  return out;
}

Table read_breast_cancer(const std::filesystem::path& raw_dir) {
  const auto file = raw_dir / "sklearn" / "breast_cancer.csv";
  auto lines = lines_of(read_raw_file(file));
  if (lines.empty() || lines[0].rfind("569,30,", 0) != 0) throw Error(file.string() + ":1", "expected the header 569,30,malignant,benign");
  Table t;
  static const char* kBase[] = {"radius", "texture", "perimeter", "area", "smoothness", "compactness",
                                "concavity", "concave points", "symmetry", "fractal dimension"};
  for (const char* kind : {"mean", "error", "worst"})
    for (const char* base : kBase) t.feature_names.push_back(fmt::format("{} {}", kind, base));
  for (size_t i = 1; i < lines.size(); ++i) {
    std::string where = fmt::format("{}:{}", file.string(), i + 1);
    auto f = split(lines[i], ',');
    if (f.size() != 31) throw Error(where, fmt::format("expected 31 values, got {}", f.size()));
    std::vector<double> row;
    for (int k = 0; k < 30; ++k) row.push_back(parse_double(f[k], where));
    double label = parse_double(f[30], where);
    if (label != 0 && label != 1) throw Error(where, "label must be 0 (malignant) or 1 (benign)");
    t.x.push_back(std::move(row));
    t.y.push_back(label);
    t.x_text.push_back(lines[i].substr(0, lines[i].rfind(',')));
  }
  if (t.x.size() != 569) throw Error(file.string(), fmt::format("expected 569 rows, got {}", t.x.size()));
  return t;
}

Table read_diabetes(const std::filesystem::path& raw_dir) {
  const auto xfile = raw_dir / "sklearn" / "diabetes_data_raw.csv.gz";
  const auto yfile = raw_dir / "sklearn" / "diabetes_target.csv.gz";
  auto xl = lines_of(read_raw_file(xfile));
  auto yl = lines_of(read_raw_file(yfile));
  if (xl.size() != yl.size()) throw Error(yfile.string(), fmt::format("{} targets for {} rows", yl.size(), xl.size()));
  Table t;
  t.feature_names = {"age", "sex", "bmi", "bp", "tc", "ldl", "hdl", "tch", "ltg", "glu"};
  for (size_t i = 0; i < xl.size(); ++i) {
    std::string where = fmt::format("{}:{}", xfile.string(), i + 1);
    auto f = fields_of(xl[i]);
    if (f.size() != 10) throw Error(where, fmt::format("expected 10 values, got {}", f.size()));
    std::vector<double> row;
    for (const auto& s : f) row.push_back(parse_double(s, where));
    t.x.push_back(std::move(row));
    t.y.push_back(parse_double(yl[i], fmt::format("{}:{}", yfile.string(), i + 1)));
    t.x_text.push_back(xl[i]);
  }
  if (t.x.size() != 442) throw Error(xfile.string(), fmt::format("expected 442 rows, got {}", t.x.size()));
  return t;
}

std::vector<Concept> read_medical_isa(const std::filesystem::path& raw_dir) {
  const auto file = raw_dir / "wordnet" / "medical_isa.tsv";
  auto lines = lines_of(read_raw_file(file));
  if (lines.empty() || lines[0] != "category\tsynset\tparent\tdepth\tlemmas")
    throw Error(file.string() + ":1", "expected the header category, synset, parent, depth, lemmas");
  std::vector<Concept> out;
  for (size_t i = 1; i < lines.size(); ++i) {
    std::string where = fmt::format("{}:{}", file.string(), i + 1);
    auto f = split(lines[i], '\t');
    if (f.size() != 5) throw Error(where, fmt::format("expected 5 tab-separated fields, got {}", f.size()));
    Concept c;
    c.category = f[0];
    c.synset = f[1];
    c.parent = f[2];
    c.depth = static_cast<int>(parse_double(f[3], where));
    c.lemmas = split(f[4], '|');
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace tenx::suites
