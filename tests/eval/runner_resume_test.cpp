// Crash safety: a `tenx run` child killed with SIGKILL mid-way, then `--resume`, ends with the same
// records as an uninterrupted run (everything but the times). Also: a non-empty folder is refused
// without --resume, a --resume with other arguments is refused, a torn journal line is dropped, and
// image items on a model without a projector are N/A.
#include <gtest/gtest.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "runner_fixtures.hpp"
#include "tenx/eval/run/runner.hpp"
#include "tenx/util/error.hpp"

namespace tenx::eval {
namespace {

using testing::TempDir;
namespace fs = std::filesystem;

// The record without the fields that measure time.
Json without_times(const ItemRecord& r) {
  Json j = to_json(r);
  j.erase("seconds");
  j.erase("time_to_first_token");
  j.erase("decode_seconds_per_token");
  return j;
}

size_t count_lines(const fs::path& file) {
  const std::string text = testing::read_text(file);
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

// A suite of choice and generate items long enough that a run takes a while.
fs::path write_long_suite(const TempDir& dir, int n) {
  std::vector<std::string> lines;
  for (int i = 0; i < n; ++i) {
    std::string ctx = "Patient " + std::to_string(i) + ": age " + std::to_string(20 + i % 60) +
                      ", glucose " + std::to_string(80 + i % 90) + ", bmi " + std::to_string(18 + i % 20) +
                      ". Q: Is the glucose normal, prediabetes or diabetes? A:";
    if (i % 4 == 3)
      lines.push_back("{\"id\":\"g" + std::to_string(i) + "\",\"task\":\"gen\",\"type\":\"generate\",\"prompt\":\"" + ctx +
                      "\",\"target\":\"normal\",\"stop\":[\"\\n\"],\"max_tokens\":8}");
    else
      lines.push_back(testing::choice_line("c" + std::to_string(i), "cls", ctx, {" normal", " prediabetes", " diabetes"}, i % 3));
  }
  return testing::write_suite(dir, "long", {{"cls", "choice"}, {"gen", "generate"}}, lines);
}

pid_t spawn(const std::vector<std::string>& args) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

TEST(RunnerResume, SigkillMidwayThenResumeGivesTheSameRecords) {
  TempDir dir;
  const int n = testing::sanitizer_build() ? 80 : 400;
  const fs::path suite = write_long_suite(dir, n);
  const fs::path a = testing::write_model(dir, "a", 1, 256, 64, 4), b = testing::write_model(dir, "b", 2, 256, 32, 1);
  const fs::path killed = dir / "killed", clean = dir / "clean";
  const std::vector<std::string> common = {"--model", "a=" + a.string(), "--model", "b=" + b.string(), "--suites",
                                           suite.string(), "--threads", "1", "--quiet"};

  std::vector<std::string> args = {TENX_BINARY, "run"};
  args.insert(args.end(), common.begin(), common.end());
  args.insert(args.end(), {"--out", killed.string()});
  const pid_t pid = spawn(args);
  ASSERT_GT(pid, 0);
  // Wait until some records are journaled (and some remain), then kill without warning.
  const fs::path journal = killed / "journal.jsonl";
  bool killed_midway = false;
  int status = 0;
  for (int i = 0; i < 6000; ++i) {
    if (::waitpid(pid, &status, WNOHANG) == pid) break;  // finished before we could kill it
    if (fs::exists(journal) && count_lines(journal) >= 16) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      killed_midway = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(killed_midway) << "the run ended before it could be killed; make the suite longer";
  const size_t journaled = count_lines(journal);
  EXPECT_LT(journaled, static_cast<size_t>(2 * n)) << "killed after the last record";
  EXPECT_FALSE(fs::exists(killed / "items.jsonl"));
  // A torn last line, as a kill during a write leaves it.
  { std::ofstream(journal, std::ios::app) << "{\"model\":\"a\",\"suite\":\"lo"; }

  std::vector<std::string> resume = {TENX_BINARY, "run"};
  resume.insert(resume.end(), common.begin(), common.end());
  resume.insert(resume.end(), {"--resume", killed.string()});
  const pid_t r = spawn(resume);
  ::waitpid(r, &status, 0);
  ASSERT_TRUE(fs::exists(killed / "items.jsonl")) << "resume did not finish, status " << status;

  RunOptions o;
  o.models = {{"a", a.string()}, {"b", b.string()}};
  o.suites = {suite.string()};
  o.out_dir = clean;
  const RunResult uninterrupted = run_evaluation(o);
  const RunResult resumed = read_run(killed);
  ASSERT_EQ(resumed.records.size(), uninterrupted.records.size());
  ASSERT_EQ(resumed.records.size(), static_cast<size_t>(2 * n));
  for (size_t i = 0; i < resumed.records.size(); ++i)
    ASSERT_EQ(without_times(resumed.records[i]), without_times(uninterrupted.records[i])) << "record " << i;
  EXPECT_EQ(resumed.manifest.selected_items, uninterrupted.manifest.selected_items);
  EXPECT_EQ(resumed.manifest.models[0].sha256, uninterrupted.manifest.models[0].sha256);
  // The journal holds every record once more (the torn line is gone).
  EXPECT_EQ(count_lines(journal), static_cast<size_t>(2 * n));
}

TEST(RunnerResume, RefusesANonEmptyFolderAndAResumeOfAnotherRun) {
  TempDir dir;
  const fs::path suite = write_long_suite(dir, 8);
  const fs::path m = testing::write_model(dir, "m");
  RunOptions o;
  o.models = {{"m", m.string()}};
  o.suites = {suite.string()};
  o.out_dir = dir / "run";
  testing::write_text(dir / "run" / "notes.txt", "mine");
  try {
    run_evaluation(o);
    FAIL() << "a non-empty folder was used";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not empty"), std::string::npos) << e.what();
  }
  fs::remove(dir / "run" / "notes.txt");
  const RunResult first = run_evaluation(o);
  EXPECT_THROW(run_evaluation(o), Error);  // again without --resume

  RunOptions other = o;
  other.resume = true;
  other.limit = 3;
  EXPECT_THROW(run_evaluation(other), Error);
  other = o;
  other.resume = true;
  other.models[0].name = "renamed";
  EXPECT_THROW(run_evaluation(other), Error);
  // The same arguments resume (nothing left to do) and give the same records.
  RunOptions same = o;
  same.resume = true;
  const RunResult again = run_evaluation(same);
  ASSERT_EQ(again.records.size(), first.records.size());
  for (size_t i = 0; i < again.records.size(); ++i) EXPECT_EQ(to_json(again.records[i]), to_json(first.records[i]));
  // --resume of a folder with no run.
  RunOptions none = o;
  none.resume = true;
  none.out_dir = dir / "nothing";
  EXPECT_THROW(run_evaluation(none), Error);
}

TEST(RunnerResume, ImageItemsAreNotApplicableWithoutProjector) {
  TempDir dir;
  const std::string image = R"("image":{"h":2,"w":2,"c":1,"max":16,"pixels":[0,16,8,4]})";
  const fs::path suite = testing::write_suite(
      dir, "mm", {{"digit", "choice"}, {"digit_blind", "choice"}},
      {R"({"id":"d1","task":"digit","context":"<image> Q: Which digit? A:","choices":[" 1"," 7"],"gold":1,)" + image + "}",
       R"({"id":"d1-blind","task":"digit_blind","context":"Q: Which digit? A:","choices":[" 1"," 7"],"gold":1})"});
  RunOptions o;
  o.models = {{"m", testing::write_model(dir, "m").string()}};
  o.suites = {suite.string()};
  o.out_dir = dir / "run";
  const RunResult r = run_evaluation(o);
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_FALSE(r.records[0].applicable);
  EXPECT_EQ(r.records[0].flops, 0u);
  EXPECT_TRUE(r.records[1].applicable);
  EXPECT_GT(r.records[1].flops, 0u);
  EXPECT_TRUE(r.manifest.models[0].projector_path.empty());
}

}  // namespace
}  // namespace tenx::eval
