// The patient-records environment: read-only look-ups over a few real table rows, clinical
// categories and a four-function calculator. Everything is a pure function of the env JSON and
// the call, so a replayed gold trajectory gives the same result text on every machine.
#include "tenx/agent/environment.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "tenx/util/error.hpp"

namespace tenx::agent {
namespace {

// Category thresholds, lower bounds of each band after the first (docs/tool-calls.md):
// WHO BMI classes; NCEP ATP III total and HDL cholesterol; ADA fasting glucose; mean
// arterial pressure 70-100 mmHg as normal; three age bands.
struct Band {
  double lower;  // the band holds values >= lower
  const char* label;
};
struct CategoryTable {
  const char* kind;
  const char* first_label;  // values below the first band's lower bound
  std::vector<Band> bands;
};

std::vector<CategoryTable> category_tables() {
  return {
      {"bmi", "underweight", {{18.5, "normal"}, {25.0, "overweight"}, {30.0, "obese"}}},
      {"age", "young", {{40.0, "middle"}, {60.0, "older"}}},
      {"bp", "low", {{70.0, "normal"}, {100.0, "high"}}},
      {"chol", "desirable", {{200.0, "borderline"}, {240.0, "high"}}},
      {"hdl", "low", {{40.0, "normal"}, {60.0, "high"}}},
      {"glucose", "normal", {{100.0, "prediabetes"}, {126.0, "diabetes"}}},
  };
}

std::string error_text(std::string what) { return "error: " + std::move(what); }

// Result text may not hold '<' or control bytes (it sits inside <result>...</result>).
std::string sanitize(std::string s) {
  for (char& c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '<' || u < 0x20 || u == 0x7f) c = '?';
  }
  return s;
}

std::string format_field(const FieldValue& v) {
  if (const auto* d = std::get_if<double>(&v)) return format_number(*d);
  return std::get<std::string>(v);
}

std::optional<double> as_number(const Value& v) {
  if (const auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  return std::nullopt;
}

}  // namespace

std::string format_number(double x) {
  if (!std::isfinite(x)) return "nan";
  double rounded = std::round(x * 10000.0) / 10000.0;
  if (rounded == 0.0) rounded = 0.0;  // no "-0"
  if (std::fabs(rounded) < 1e15 && rounded == std::trunc(rounded))
    return fmt::format("{}", static_cast<std::int64_t>(rounded));
  // Shortest round-trip form of the rounded value: at most 4 decimals, never an exponent for
  // the magnitudes the tables hold.
  std::string s = fmt::format("{}", rounded);
  if (s.find_first_of("eE") != std::string::npos) {
    s = fmt::format("{:.4f}", rounded);
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
  }
  return s;
}

std::optional<std::string> clinical_category(std::string_view kind, double value) {
  for (const auto& table : category_tables()) {
    if (kind != table.kind) continue;
    std::string label = table.first_label;
    for (const auto& band : table.bands)
      if (value >= band.lower) label = band.label;
    return label;
  }
  return std::nullopt;
}

std::vector<std::string> category_kinds() {
  std::vector<std::string> kinds;
  for (const auto& t : category_tables()) kinds.emplace_back(t.kind);
  return kinds;
}

PatientRecordsEnv::PatientRecordsEnv(std::string table, std::vector<std::string> fields,
                                     std::vector<PatientRecord> patients,
                                     std::vector<ToolSpec> tools)
    : table_(std::move(table)), fields_(std::move(fields)), patients_(std::move(patients)),
      tools_(std::move(tools)) {
  std::sort(patients_.begin(), patients_.end(),
            [](const PatientRecord& a, const PatientRecord& b) { return a.id < b.id; });
}

PatientRecordsEnv PatientRecordsEnv::from_json(const nlohmann::json& env,
                                               std::vector<ToolSpec> tools,
                                               const std::string& subject) {
  if (!env.is_object()) throw Error(subject, "the environment state must be an object");
  if (!env.contains("table") || !env["table"].is_string())
    throw Error(subject + ".table", "missing or not a string");
  if (!env.contains("fields") || !env["fields"].is_array())
    throw Error(subject + ".fields", "missing or not an array");
  if (!env.contains("patients") || !env["patients"].is_array())
    throw Error(subject + ".patients", "missing or not an array");
  std::vector<std::string> fields;
  for (std::size_t i = 0; i < env["fields"].size(); ++i) {
    const auto& f = env["fields"][i];
    if (!f.is_string()) throw Error(fmt::format("{}.fields[{}]", subject, i), "not a string");
    std::string name = f.get<std::string>();
    if (std::find(fields.begin(), fields.end(), name) != fields.end() || name == "id")
      throw Error(fmt::format("{}.fields[{}]", subject, i),
                  fmt::format("duplicate or reserved field \"{}\"", name));
    fields.push_back(std::move(name));
  }
  std::vector<PatientRecord> patients;
  for (std::size_t i = 0; i < env["patients"].size(); ++i) {
    const auto& p = env["patients"][i];
    std::string where = fmt::format("{}.patients[{}]", subject, i);
    if (!p.is_object()) throw Error(where, "a patient must be an object");
    if (!p.contains("id") || !p["id"].is_number_integer())
      throw Error(where + ".id", "missing or not an integer");
    PatientRecord rec;
    rec.id = p["id"].get<std::int64_t>();
    for (const auto& [key, v] : p.items()) {
      if (key == "id") continue;
      if (std::find(fields.begin(), fields.end(), key) == fields.end())
        throw Error(where + "." + key, "not one of the listed fields");
      if (v.is_number()) rec.fields[key] = v.get<double>();
      else if (v.is_string()) rec.fields[key] = v.get<std::string>();
      else throw Error(where + "." + key, "a field value must be a number or a string");
    }
    for (const auto& f : fields)
      if (!rec.fields.count(f)) throw Error(where, fmt::format("missing field \"{}\"", f));
    for (const auto& other : patients)
      if (other.id == rec.id) throw Error(where + ".id", fmt::format("duplicate id {}", rec.id));
    patients.push_back(std::move(rec));
  }
  return PatientRecordsEnv(env["table"].get<std::string>(), std::move(fields),
                           std::move(patients), std::move(tools));
}

nlohmann::ordered_json PatientRecordsEnv::to_json() const {
  nlohmann::ordered_json patients = nlohmann::ordered_json::array();
  for (const auto& p : patients_) {
    nlohmann::ordered_json row = {{"id", p.id}};
    for (const auto& f : fields_) {
      const FieldValue& v = p.fields.at(f);
      if (const auto* d = std::get_if<double>(&v)) {
        // Integral values are written as JSON integers: shorter, and what the raw tables hold.
        if (*d == std::trunc(*d) && std::fabs(*d) < 1e15) row[f] = static_cast<std::int64_t>(*d);
        else row[f] = *d;
      } else {
        row[f] = std::get<std::string>(v);
      }
    }
    patients.push_back(std::move(row));
  }
  return {{"table", table_}, {"fields", fields_}, {"patients", patients}};
}

const PatientRecord* PatientRecordsEnv::find_patient(std::int64_t id) const {
  for (const auto& p : patients_)
    if (p.id == id) return &p;
  return nullptr;
}

ExecResult PatientRecordsEnv::execute(const ToolCall& call) const {
  auto problems = check_call(call, tools_, call.name);
  if (!problems.empty()) return {false, sanitize(error_text(problems.front()))};
  if (call.name == "list_patients") {
    std::string out;
    for (const auto& p : patients_) out += (out.empty() ? "" : ", ") + std::to_string(p.id);
    return {true, out.empty() ? "none" : out};
  }
  if (call.name == "list_fields") {
    std::string out;
    for (const auto& f : fields_) out += (out.empty() ? "" : ", ") + f;
    return {true, out.empty() ? "none" : out};
  }
  if (call.name == "lookup") return run_lookup(call);
  if (call.name == "category") return run_category(call);
  if (call.name == "add" || call.name == "subtract" || call.name == "multiply" ||
      call.name == "divide")
    return run_arithmetic(call);
  return {false, sanitize(error_text(fmt::format("the {} environment cannot run \"{}\"", kName,
                                                 call.name)))};
}

ExecResult PatientRecordsEnv::run_lookup(const ToolCall& call) const {
  std::int64_t id = std::get<std::int64_t>(call.find("patient")->value);
  const std::string& field = std::get<std::string>(call.find("field")->value);
  const PatientRecord* p = find_patient(id);
  if (p == nullptr) return {false, error_text(fmt::format("no patient {}", id))};
  auto it = p->fields.find(field);
  if (it == p->fields.end())
    return {false, sanitize(error_text(fmt::format("no field \"{}\"", field)))};
  return {true, sanitize(format_field(it->second))};
}

ExecResult PatientRecordsEnv::run_category(const ToolCall& call) const {
  const std::string& kind = std::get<std::string>(call.find("kind")->value);
  double value = *as_number(call.find("value")->value);
  auto label = clinical_category(kind, value);
  if (!label) return {false, sanitize(error_text(fmt::format("no category kind \"{}\"", kind)))};
  return {true, *label};
}

ExecResult PatientRecordsEnv::run_arithmetic(const ToolCall& call) const {
  double a = *as_number(call.find("a")->value);
  double b = *as_number(call.find("b")->value);
  double r = 0;
  if (call.name == "add") r = a + b;
  else if (call.name == "subtract") r = a - b;
  else if (call.name == "multiply") r = a * b;
  else {
    if (b == 0) return {false, error_text("division by zero")};
    r = a / b;
  }
  if (!std::isfinite(r) || std::fabs(r) >= 1e15) return {false, error_text("result out of range")};
  return {true, format_number(r)};
}

}  // namespace tenx::agent
