// The JSON form of run records: round trips, strict reading (missing or mistyped fields name the
// subject and the field), unknown fields ignored (additive changes), -inf log-likelihoods.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "tenx/eval/run/record.hpp"
#include "tenx/util/error.hpp"

namespace tenx::eval {
namespace {

ItemRecord sample_record() {
  ItemRecord r;
  r.model = "m";
  r.suite = "s";
  r.item = "i1";
  r.task = "t";
  r.type = "choice";
  r.correct = true;
  r.score = 1;
  r.loglik = {-1.5, -std::numeric_limits<double>::infinity()};
  r.choice_bytes = {4, 3};
  r.predicted = 0;
  r.gold = 0;
  r.flops = 1234567890123ull;
  r.flops_naive = 2234567890123ull;
  r.tokens_in = 17;
  r.seconds = 0.25;
  return r;
}

TEST(RunRecord, ItemRoundTrip) {
  const ItemRecord r = sample_record();
  const Json j = to_json(r);
  EXPECT_TRUE(j["loglik"][1].is_null());
  const ItemRecord b = item_record_from_json(Json::parse(j.dump()), "x");
  EXPECT_EQ(to_json(b), j);
  EXPECT_TRUE(std::isinf(b.loglik[1]) && b.loglik[1] < 0);
  EXPECT_EQ(b.flops, 1234567890123ull);
}

TEST(RunRecord, MissingAndMistypedFieldsNameSubjectAndField) {
  Json j = to_json(sample_record());
  j.erase("tokens_out");
  try {
    item_record_from_json(j, "journal.jsonl:3");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("journal.jsonl:3"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("tokens_out: missing"), std::string::npos) << e.what();
  }
  j = to_json(sample_record());
  j["correct"] = "yes";
  EXPECT_THROW(item_record_from_json(j, "x"), Error);
  j = to_json(sample_record());
  j["flops"] = -1;
  EXPECT_THROW(item_record_from_json(j, "x"), Error);
  j = to_json(sample_record());
  j["choice_bytes"] = Json::array({1});
  EXPECT_THROW(item_record_from_json(j, "x"), Error);
  EXPECT_THROW(item_record_from_json(Json::array(), "x"), Error);
  // Unknown fields are ignored, so a field added later does not break this reader.
  j = to_json(sample_record());
  j["added_later"] = 3;
  EXPECT_NO_THROW(item_record_from_json(j, "x"));
}

TEST(RunRecord, ManifestRoundTripAndFormatCheck) {
  RunManifest m;
  m.tenx_version = "0.1";
  m.argv = {"tenx", "run"};
  m.seed = 7;
  m.limit = 10;
  ModelInfo info;
  info.name = "a";
  info.path = "a.gguf";
  info.weight_bytes_by_type = {{"F32", 100}, {"Q8_0", 34}};
  info.training_tokens = 1e6;
  info.training_flops = 6e9;
  info.training_flops_estimated = true;
  m.models.push_back(info);
  SuiteRef s;
  s.name = "health";
  s.items_total = 5;
  s.items_selected = 2;
  m.suites.push_back(s);
  m.selected_items["health"] = {"x", "y"};
  const Json j = to_json(m);
  const RunManifest b = run_manifest_from_json(Json::parse(j.dump()), "run.json");
  EXPECT_EQ(to_json(b), j);
  EXPECT_FALSE(b.models[0].training_seconds.has_value());
  EXPECT_TRUE(b.models[0].training_flops_estimated);

  Json bad = j;
  bad["format"] = kRecordFormat + 1;
  EXPECT_THROW(run_manifest_from_json(bad, "run.json"), Error);
  bad = j;
  bad["models"][0].erase("sha256");
  try {
    run_manifest_from_json(bad, "run.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("run.json: models[0].sha256: missing"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tenx::eval
