#pragma once
// Readers for the public raw data under data/raw/ (see data/raw/README.md for provenance and
// licences): scikit-learn's copies of the UCI digits and Wisconsin breast-cancer tables, the
// Efron et al. diabetes table, and the WordNet medical is-a subset. Shared by the generators of
// all suites (health, multimodal, reasoning, agentic). Every reader throws tenx::Error naming
// the file and line on malformed input.
#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace tenx::suites {

// Decompresses a gzip file's bytes (RFC 1952: header, deflate body, CRC-32 and size checked).
std::string gunzip(const std::string& bytes, const std::string& subject);
std::string read_raw_file(const std::filesystem::path& file);  // whole file, gunzipped if *.gz

struct DigitImage {
  int row = 0;    // 0-based row in digits.csv.gz (its identity for split checks)
  int label = 0;  // 0..9
  std::array<std::uint8_t, 64> pixels{};  // 8x8, row-major, values 0..16
};
// sklearn/digits.csv.gz: 1797 rows of 64 pixel values and the label.
std::vector<DigitImage> read_digits(const std::filesystem::path& raw_dir);

// A numeric table: rows of features and one target per row.
struct Table {
  std::vector<std::string> feature_names;
  std::vector<std::vector<double>> x;  // x[row][feature]
  std::vector<double> y;               // breast cancer: 0 malignant, 1 benign; diabetes: progression
  std::vector<std::string> x_text;     // each row's feature values as written in the file (for hashing/prompts)
};
// sklearn/breast_cancer.csv: 569 x 30 (mean, standard error, worst of 10 measurements).
Table read_breast_cancer(const std::filesystem::path& raw_dir);
// sklearn/diabetes_data_raw.csv.gz + diabetes_target.csv.gz: 442 x 10
// (age, sex, bmi, bp, s1 tc, s2 ldl, s3 hdl, s4 tch, s5 ltg, s6 glu) and the progression score.
Table read_diabetes(const std::filesystem::path& raw_dir);

// wordnet/medical_isa.tsv: the hyponym closures of disease, drug, symptom and organ.
struct Concept {
  std::string category;  // "disease", "drug", "symptom", "organ"
  std::string synset;    // WordNet 3.0 noun offset, 8 digits
  std::string parent;    // parent synset offset, "-" for the root
  int depth = 0;         // 0 for the root
  std::vector<std::string> lemmas;  // spaces, not underscores
};
std::vector<Concept> read_medical_isa(const std::filesystem::path& raw_dir);

}  // namespace tenx::suites
