// Comparisons over rows of the real patient tables (Efron et al. diabetes, Wisconsin breast
// cancer), and the patient-row partition that the reasoning and agentic suites share. Test items
// show only test patients, train items only train patients.
#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <memory>

#include "reasoning_tasks.hpp"
#include "tenx/agent/environment.hpp"  // format_number: the same number text as tool results
#include "tenx/util/error.hpp"

namespace tenx::suites {

double PatientRow::field(const std::string& name) const {
  for (const auto& f : fields)
    if (f.name == name) return f.value;
  throw Error(table, fmt::format("row {} has no field \"{}\"", row, name));
}

std::vector<PatientRow> read_patient_rows(const std::filesystem::path& raw_dir,
                                          const std::string& table) {
  std::vector<PatientRow> rows;
  if (table == "diabetes") {
    Table t = read_diabetes(raw_dir);
    const std::vector<std::string> names = {"age", "sex", "bmi", "bp", "chol", "ldl",
                                            "hdl", "tch", "ltg", "glucose"};
    for (std::size_t r = 0; r < t.x.size(); ++r) {
      PatientRow row{table, static_cast<int>(r), {}, ""};
      for (std::size_t f = 0; f < names.size() && f < t.x[r].size(); ++f)
        row.fields.push_back({names[f], t.x[r][f]});
      row.fields.push_back({"progression", t.y[r]});
      rows.push_back(std::move(row));
    }
  } else if (table == "breast_cancer") {
    Table t = read_breast_cancer(raw_dir);
    const std::vector<std::string> names = {"radius", "texture", "perimeter", "area",
                                            "smoothness", "compactness", "concavity",
                                            "concave_points", "symmetry", "fractal_dimension"};
    for (std::size_t r = 0; r < t.x.size(); ++r) {
      PatientRow row{table, static_cast<int>(r), {}, t.y[r] == 0 ? "malignant" : "benign"};
      for (std::size_t f = 0; f < names.size() && f < t.x[r].size(); ++f)
        row.fields.push_back({names[f], t.x[r][f]});
      rows.push_back(std::move(row));
    }
  } else {
    throw Error("table", fmt::format("unknown patient table \"{}\" (diabetes, breast_cancer)", table));
  }
  return rows;
}

std::vector<bool> test_patient_rows(const std::string& table, int n_rows) {
  std::vector<int> order(static_cast<std::size_t>(n_rows));
  for (int i = 0; i < n_rows; ++i) order[static_cast<std::size_t>(i)] = i;
  Rng rng = Rng::derive(0x7E57'9A71'E475ULL, "patient-split/" + table);
  rng.shuffle(order);
  std::vector<bool> is_test(static_cast<std::size_t>(n_rows), false);
  int n_test = (n_rows * 3 + 5) / 10;  // 30%, rounded
  for (int i = 0; i < n_test; ++i) is_test[static_cast<std::size_t>(order[static_cast<std::size_t>(i)])] = true;
  return is_test;
}

namespace reasoning {
namespace {

// Fields a comparison may ask about, with the step a threshold is rounded to.
struct AskedField {
  const char* name;
  double step;
};
const std::vector<AskedField> kDiabetesFields = {{"age", 5},  {"bmi", 1},     {"bp", 5},
                                                 {"chol", 10}, {"hdl", 5},    {"glucose", 5},
                                                 {"progression", 10}};
const std::vector<AskedField> kCancerFields = {
    {"radius", 1}, {"texture", 1}, {"perimeter", 5}, {"area", 50}, {"smoothness", 0.01}};

struct PatientPools {
  // [table][split] -> rows; table 0 diabetes, 1 breast_cancer.
  std::vector<PatientRow> rows[2][2];
};

const std::vector<AskedField>& fields_of(int table) { return table == 0 ? kDiabetesFields : kCancerFields; }

std::string show(double v) { return agent::format_number(v); }
// The value as the text shows it (4 decimals at most): answers are computed from what the
// model can read.
double shown_value(double v) {
  std::string s = show(v);
  double out = 0;
  std::from_chars(s.data(), s.data() + s.size(), out);
  return out;
}

// "P1: age 59, bmi 32.1" with the asked field among `n_shown` fields in random order.
std::string patient_line(const std::string& label, const PatientRow& row,
                         const std::vector<std::string>& shown) {
  std::string out = label + ":";
  for (std::size_t i = 0; i < shown.size(); ++i)
    out += fmt::format("{} {} {}", i == 0 ? "" : ",", shown[i], show(row.field(shown[i])));
  return out;
}

std::vector<std::string> shown_fields(Rng& rng, int table, const std::string& asked, int n_shown) {
  const auto& all = fields_of(table);
  std::vector<std::string> shown = {asked};
  for (std::size_t i : rng.sample(all.size(), all.size())) {
    if (static_cast<int>(shown.size()) >= n_shown) break;
    if (all[i].name != asked) shown.push_back(all[i].name);
  }
  rng.shuffle(shown);
  return shown;
}

Json rows_meta(int table, const std::vector<const PatientRow*>& rows) {
  Json ids = Json::array();
  for (const auto* r : rows) ids.push_back(r->row);
  return Json{{"table", table == 0 ? "diabetes" : "breast_cancer"}, {"rows", ids}};
}

// Which of k patients has the highest/lowest value of a field (k = 2: compare, k = 4: extreme).
Item extreme_of(Rng& rng, const PatientPools& pools, Split split, int k, int n_shown) {
  const int max_draws = 10000;
  int gold = static_cast<int>(rng.below(static_cast<std::uint64_t>(k)));
  for (int draw = 0; draw < max_draws; ++draw) {
    int table = static_cast<int>(rng.below(2));
    const auto& pool = pools.rows[table][split == Split::test ? 1 : 0];
    const AskedField& asked = rng.pick(fields_of(table));
    bool highest = rng.chance(1, 2);
    std::vector<const PatientRow*> rows;
    for (std::size_t i : rng.sample(pool.size(), static_cast<std::size_t>(k))) rows.push_back(&pool[i]);
    // Shown values must all differ, so the answer is unique.
    bool distinct = true;
    for (int i = 0; i < k; ++i)
      for (int j = i + 1; j < k; ++j)
        distinct = distinct && show(rows[i]->field(asked.name)) != show(rows[j]->field(asked.name));
    if (!distinct) continue;
    int best = 0;
    for (int i = 1; i < k; ++i) {
      double v = rows[i]->field(asked.name), b = rows[best]->field(asked.name);
      if (highest ? v > b : v < b) best = i;
    }
    std::swap(rows[best], rows[gold]);
    auto shown = shown_fields(rng, table, asked.name, n_shown);
    std::string context;
    std::vector<std::string> labels;
    for (int i = 0; i < k; ++i) {
      labels.push_back(fmt::format("P{}", i + 1));
      context += patient_line(labels.back(), *rows[i], shown) + "\n";
    }
    const char* word = k == 2 ? (highest ? "higher" : "lower") : (highest ? "highest" : "lowest");
    context += fmt::format("Q: Who has the {} {}?\nA:", word, asked.name);
    Item item = make_choice(context, labels, gold);
    item.meta = rows_meta(table, rows);
    return item;
  }
  throw Error("reasoning/table", "could not draw patients with distinct values");
}

// Is one patient's value above a threshold (balanced yes/no; never equal to it).
Item threshold(Rng& rng, const PatientPools& pools, Split split) {
  bool want_yes = rng.chance(1, 2);
  int table = static_cast<int>(rng.below(2));
  const auto& pool = pools.rows[table][split == Split::test ? 1 : 0];
  const AskedField& asked = rng.pick(fields_of(table));
  const PatientRow& row = pool[rng.below(pool.size())];
  double v = shown_value(row.field(asked.name));
  double steps = static_cast<double>(rng.range(1, 3));
  // A multiple of the step, 1-3 steps below (yes) or above (no) the value.
  double t = want_yes ? (std::ceil(v / asked.step) - steps) * asked.step
                      : (std::floor(v / asked.step) + steps) * asked.step;
  t = std::round(t * 10000.0) / 10000.0;
  if (t == v) t += want_yes ? -asked.step : asked.step;
  auto shown = shown_fields(rng, table, asked.name, static_cast<int>(rng.range(1, 3)));
  std::string context = patient_line("P1", row, shown) + "\n" +
                        fmt::format("Q: Is the {} of P1 above {}?\nA:", asked.name, show(t));
  Item item = make_choice(context, {"yes", "no"}, v > t ? 0 : 1);
  item.meta = rows_meta(table, {&row});
  return item;
}

}  // namespace

std::vector<TaskSpec> table_tasks(const std::filesystem::path& raw_dir) {
  auto pools = std::make_shared<PatientPools>();
  const char* tables[2] = {"diabetes", "breast_cancer"};
  for (int t = 0; t < 2; ++t) {
    auto rows = read_patient_rows(raw_dir, tables[t]);
    auto is_test = test_patient_rows(tables[t], static_cast<int>(rows.size()));
    for (auto& r : rows) pools->rows[t][is_test[static_cast<std::size_t>(r.row)] ? 1 : 0].push_back(std::move(r));
  }
  using T = ItemType;
  return {
      {"table_compare", T::choice, 1, "which of two real patients has the higher/lower value of a field",
       [pools](Rng& rng, Split s) { return extreme_of(rng, *pools, s, 2, static_cast<int>(rng.range(1, 3))); }},
      {"table_threshold", T::choice, 1, "is a real patient's value above a threshold",
       [pools](Rng& rng, Split s) { return threshold(rng, *pools, s); }},
      {"table_extreme", T::choice, 2, "which of four real patients has the highest/lowest value",
       [pools](Rng& rng, Split s) { return extreme_of(rng, *pools, s, 4, static_cast<int>(rng.range(1, 2))); }},
  };
}

}  // namespace reasoning
}  // namespace tenx::suites
