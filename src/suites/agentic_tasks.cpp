// The agentic tasks: one generator per BFCL category (simple, multiple, parallel,
// parallel-multiple, irrelevance) and two kinds of multi-step chains. Instructions are short
// templates over real patients; every number an agent must pass on comes from a result.
#include <fmt/format.h>

#include <algorithm>

#include "agentic_episodes.hpp"
#include "tenx/util/error.hpp"

namespace tenx::suites::agentic {
namespace {

const std::vector<std::string> kTables = {"diabetes", "breast_cancer"};
const std::vector<std::string> kOps = {"add", "subtract", "multiply", "divide"};
const std::vector<std::string> kOpWords = {"plus", "minus", "times", "divided by"};

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

// "17", "17 and 41", "17, 41 and 56"
std::string id_list(const std::vector<std::int64_t>& ids) {
  std::string out;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out += i + 1 == ids.size() ? " and " : ", ";
    out += std::to_string(ids[i]);
  }
  return out;
}

std::vector<std::string> numeric_fields(const std::string& table) {
  std::vector<std::string> out;
  for (const auto& f : env_fields(table))
    if (f != "diagnosis") out.push_back(f);
  return out;
}

// A random numeric value as shown by the records: a real field value of a real patient.
std::string shown_value(Rng& rng, const PatientPools& pools, Split split, const std::string& field) {
  const auto& pool = pools.of("diabetes", split);
  return agent::format_number(pool[rng.below(pool.size())].field(field));
}

struct ArithQuestion {
  std::string text;  // "12 times 4"
  agent::ToolCall call;
};
ArithQuestion arith_question(Rng& rng) {
  std::size_t op = rng.below(kOps.size());
  std::int64_t a = rng.range(2, 99);
  std::int64_t b = op == 3 ? rng.range(2, 12) : rng.range(2, 99);
  return {fmt::format("{} {} {}", a, kOpWords[op], b),
          binary_call(kOps[op], agent::Value{a}, agent::Value{b})};
}

}  // namespace

Item simple_task(Rng& rng, const PatientPools& pools, Split split) {
  const std::string& table = rng.pick(kTables);
  std::string field = rng.pick(env_fields(table));
  auto rows = pick_rows(rng, pools.of(table, split), static_cast<int>(rng.range(3, 5)));
  auto id = patient_id(*rng.pick(rows));
  EpisodeBuilder ep(table, rows, pick_fields(rng, table, {field}, 4), {"lookup"});
  auto r = ep.step({lookup_call(id, field)});
  return ep.finish(fmt::format("What is the {} of patient {}?", field, id), r[0]);
}

Item multiple_task(Rng& rng, const PatientPools& pools, Split split) {
  const std::string& table = rng.pick(kTables);
  auto rows = pick_rows(rng, pools.of(table, split), static_cast<int>(rng.range(3, 5)));
  switch (rng.below(4)) {
    case 0: {
      std::string field = rng.pick(env_fields(table));
      auto id = patient_id(*rng.pick(rows));
      // Tools first, then fields: the order gcc evaluated these two arguments in when the shipped
      // files were built (argument order is unspecified; clang evaluates left to right).
      auto tools = tool_names(rng, {"lookup"}, 3);
      auto fields = pick_fields(rng, table, {field}, 4);
      EpisodeBuilder ep(table, rows, std::move(fields), std::move(tools));
      auto r = ep.step({lookup_call(id, field)});
      return ep.finish(fmt::format("What is the {} of patient {}?", field, id), r[0]);
    }
    case 1: {
      std::string kind = rng.pick(category_fields());
      std::string value = shown_value(rng, pools, split, kind);
      auto tools = tool_names(rng, {"category"}, 3);  // before the fields, as above
      auto fields = pick_fields(rng, table, {}, 4);
      EpisodeBuilder ep(table, rows, std::move(fields), std::move(tools));
      auto r = ep.step({category_call(kind, number_value(value))});
      return ep.finish(fmt::format("What is the category for {} {}?", kind, value), r[0]);
    }
    case 2: {
      auto q = arith_question(rng);
      auto tools = tool_names(rng, {q.call.name}, 3);  // before the fields, as above
      auto fields = pick_fields(rng, table, {}, 4);
      EpisodeBuilder ep(table, rows, std::move(fields), std::move(tools));
      auto r = ep.step({q.call});
      return ep.finish(fmt::format("What is {}?", q.text), r[0]);
    }
    default: {
      auto tools = tool_names(rng, {"list_patients"}, 3);  // before the fields, as above
      auto fields = pick_fields(rng, table, {}, 4);
      EpisodeBuilder ep(table, rows, std::move(fields), std::move(tools));
      auto r = ep.step({list_patients_call()});
      return ep.finish("Which patient ids are in the records?", r[0]);
    }
  }
}

Item parallel_task(Rng& rng, const PatientPools& pools, Split split) {
  const std::string& table = rng.pick(kTables);
  auto rows = pick_rows(rng, pools.of(table, split), static_cast<int>(rng.range(3, 5)));
  std::vector<std::string> tools = {"lookup"};
  if (rng.chance(1, 2)) tools.push_back("list_fields");
  rng.shuffle(tools);
  if (rng.chance(1, 2)) {
    // One field of two or three patients.
    std::string field = rng.pick(env_fields(table));
    std::vector<std::int64_t> ids;
    for (std::size_t i : rng.sample(rows.size(), static_cast<std::size_t>(rng.range(2, 3))))
      ids.push_back(patient_id(*rows[i]));
    std::vector<agent::ToolCall> calls;
    for (auto id : ids) calls.push_back(lookup_call(id, field));
    EpisodeBuilder ep(table, rows, pick_fields(rng, table, {field}, 4), tools);
    auto r = ep.step(calls);
    return ep.finish(fmt::format("What is the {} of patients {}?", field, id_list(ids)), join(r, ", "));
  }
  // Two fields of one patient.
  auto two = rng.sample(env_fields(table).size(), 2);
  std::string f1 = env_fields(table)[two[0]], f2 = env_fields(table)[two[1]];
  auto id = patient_id(*rng.pick(rows));
  EpisodeBuilder ep(table, rows, pick_fields(rng, table, {f1, f2}, 4), tools);
  auto r = ep.step({lookup_call(id, f1), lookup_call(id, f2)});
  return ep.finish(fmt::format("What are the {} and {} of patient {}?", f1, f2, id), join(r, ", "));
}

Item parallel_multiple_task(Rng& rng, const PatientPools& pools, Split split) {
  const std::string& table = rng.pick(kTables);
  auto rows = pick_rows(rng, pools.of(table, split), static_cast<int>(rng.range(3, 5)));
  std::string field = rng.pick(env_fields(table));
  auto id = patient_id(*rng.pick(rows));
  std::string first = fmt::format("the {} of patient {}", field, id);
  agent::ToolCall other;
  std::string second;
  if (rng.chance(1, 2)) {
    std::string kind = rng.pick(category_fields());
    std::string value = shown_value(rng, pools, split, kind);
    other = category_call(kind, number_value(value));
    second = fmt::format("the category for {} {}", kind, value);
  } else {
    auto q = arith_question(rng);
    other = q.call;
    second = q.text;
  }
  auto tools = tool_names(rng, {"lookup", other.name}, 2);  // before the fields, as above
  auto fields = pick_fields(rng, table, {field}, 4);
  EpisodeBuilder ep(table, rows, std::move(fields), std::move(tools));
  bool lookup_first = rng.chance(1, 2);
  std::vector<agent::ToolCall> calls = {lookup_call(id, field), other};
  if (!lookup_first) std::swap(calls[0], calls[1]);
  auto r = ep.step(calls);
  std::string a = lookup_first ? first : second, b = lookup_first ? second : first;
  return ep.finish(fmt::format("What is {}, and what is {}?", a, b), join(r, ", "));
}

Item irrelevance_task(Rng& rng, const PatientPools& pools, Split split) {
  const std::string& table = rng.pick(kTables);
  auto rows = pick_rows(rng, pools.of(table, split), static_cast<int>(rng.range(3, 5)));
  auto id = patient_id(*rng.pick(rows));
  const std::vector<std::string> countries = {"France", "Spain", "Japan", "Kenya", "Peru", "Norway"};
  const std::vector<std::string> words = {"hello", "doctor", "water", "thank you", "pain"};
  std::vector<std::string> requests = {
      fmt::format("Book an appointment for patient {}.", id),
      fmt::format("Email the results of patient {} to the doctor.", id),
      fmt::format("Prescribe insulin for patient {}.", id),
      fmt::format("Delete the record of patient {}.", id),
      fmt::format("Call patient {} by phone.", id),
      fmt::format("What is the blood type of patient {}?", id),
      fmt::format("Change the age of patient {} to {}.", id, rng.range(20, 80)),
      "What will the weather be tomorrow?",
      fmt::format("What is the capital of {}?", rng.pick(countries)),
      fmt::format("Translate \"{}\" into French.", rng.pick(words)),
  };
  // No tool fits: nothing to call, so the episode is the answer alone.
  auto tools = tool_names(rng, {}, static_cast<int>(rng.range(2, 4)));  // before the fields, as above
  auto fields = pick_fields(rng, table, {}, 4);
  EpisodeBuilder ep(table, rows, std::move(fields), std::move(tools));
  return ep.finish(rng.pick(requests), kNoAnswer);
}

Item multi_step_task(Rng& rng, const PatientPools& pools, Split split) {
  if (rng.chance(1, 2)) {
    // lookup -> category
    std::string kind = rng.pick(category_fields());
    auto rows = pick_rows(rng, pools.of("diabetes", split), static_cast<int>(rng.range(3, 5)));
    auto id = patient_id(*rng.pick(rows));
    auto tools = tool_names(rng, {"lookup", "category"}, 2);  // before the fields, as above
    auto fields = pick_fields(rng, "diabetes", {kind}, 4);
    EpisodeBuilder ep("diabetes", rows, std::move(fields), std::move(tools));
    auto r = ep.step({lookup_call(id, kind)});
    auto c = ep.step({category_call(kind, number_value(r[0]))});
    return ep.finish(fmt::format("What is the {} category of patient {}?", kind, id), c[0]);
  }
  // two lookups -> subtract
  const std::string& table = rng.pick(kTables);
  std::string field = rng.pick(numeric_fields(table));
  auto rows = pick_rows(rng, pools.of(table, split), static_cast<int>(rng.range(3, 5)));
  auto two = rng.sample(rows.size(), 2);
  auto a = patient_id(*rows[two[0]]), b = patient_id(*rows[two[1]]);
  auto tools = tool_names(rng, {"lookup", "subtract"}, 2);  // before the fields, as above
  auto fields = pick_fields(rng, table, {field}, 4);
  EpisodeBuilder ep(table, rows, std::move(fields), std::move(tools));
  auto r = ep.step({lookup_call(a, field), lookup_call(b, field)});
  auto d = ep.step({binary_call("subtract", number_value(r[0]), number_value(r[1]))});
  return ep.finish(fmt::format("What is the {} of patient {} minus that of patient {}?", field, a, b), d[0]);
}

Item multi_step_long_task(Rng& rng, const PatientPools& pools, Split split) {
  const std::string& table = rng.pick(kTables);
  std::string field = rng.pick(numeric_fields(table));
  if (rng.chance(1, 2)) {
    // list_patients -> lookup each -> the patient with the highest/lowest value
    for (int attempt = 0; attempt < 1000; ++attempt) {
      auto rows = pick_rows(rng, pools.of(table, split), static_cast<int>(rng.range(3, 4)));
      bool highest = rng.chance(1, 2);
      auto tools = tool_names(rng, {"list_patients", "lookup"}, 1);  // before the fields, as above
      auto fields = pick_fields(rng, table, {field}, 4);
      EpisodeBuilder ep(table, rows, std::move(fields), std::move(tools));
      auto listed = ep.step({list_patients_call()});
      std::vector<std::int64_t> ids;
      for (const auto* row : rows) ids.push_back(patient_id(*row));
      std::sort(ids.begin(), ids.end());  // list_patients lists ids in ascending order
      std::vector<agent::ToolCall> calls;
      for (auto id : ids) calls.push_back(lookup_call(id, field));
      auto values = ep.step(calls);
      std::vector<std::string> sorted = values;
      std::sort(sorted.begin(), sorted.end());
      if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) continue;  // ties
      auto as_double = [](const std::string& s) {
        auto val = number_value(s);
        return std::holds_alternative<double>(val) ? std::get<double>(val)
                                                   : static_cast<double>(std::get<std::int64_t>(val));
      };
      std::size_t best = 0;
      for (std::size_t i = 1; i < values.size(); ++i) {
        double x = as_double(values[i]), y = as_double(values[best]);
        if (highest ? x > y : x < y) best = i;
      }
      return ep.finish(fmt::format("Which patient has the {} {}?", highest ? "highest" : "lowest", field),
                       std::to_string(ids[best]));
    }
    throw Error("agentic/multi_step_long", "no patients with distinct values");
  }
  // two lookups -> add -> divide by 2
  auto rows = pick_rows(rng, pools.of(table, split), static_cast<int>(rng.range(3, 5)));
  auto two = rng.sample(rows.size(), 2);
  auto a = patient_id(*rows[two[0]]), b = patient_id(*rows[two[1]]);
  auto tools = tool_names(rng, {"lookup", "add", "divide"}, 1);  // before the fields, as above
  auto fields = pick_fields(rng, table, {field}, 4);
  EpisodeBuilder ep(table, rows, std::move(fields), std::move(tools));
  auto r = ep.step({lookup_call(a, field), lookup_call(b, field)});
  auto s = ep.step({binary_call("add", number_value(r[0]), number_value(r[1]))});
  auto m = ep.step({binary_call("divide", number_value(s[0]), agent::Value{std::int64_t{2}})});
  return ep.finish(fmt::format("What is the average {} of patients {} and {}?", field, a, b), m[0]);
}

}  // namespace tenx::suites::agentic
