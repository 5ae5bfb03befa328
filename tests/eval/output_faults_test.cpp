// `tenx run` when its output cannot be written (docs/reliability.md, "Full disk and unwritable
// output"): a file size limit (RLIMIT_FSIZE, EFBIG as from a full disk), a real full file system
// (a small tmpfs, ENOSPC), a folder the process may not write to, and a journal that is a device.
// Each must end with exit 2 and `tenx: error: FILE: problem`, leave earlier results byte for byte
// as they were (SHA-256), and leave a journal that `--resume` completes to the uninterrupted results.
#include <gtest/gtest.h>
#include <grp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>

#include "eval/child_process.hpp"
#include "runner_fixtures.hpp"
#include "soak/soak_check.hpp"
#include "tenx/eval/run/runner.hpp"
#include "tenx/util/sha256.hpp"

namespace tenx::eval {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;
using tenx::testing::ChildResult;
using tenx::testing::run_child;

constexpr int kItems = 60;

// Choice items whose records (~450 bytes each) make a journal of a few dozen KiB.
fs::path write_suite(const TempDir& dir) {
  std::vector<std::string> lines;
  for (int i = 0; i < kItems; ++i)
    lines.push_back(testing::choice_line("c" + std::to_string(i), "cls",
                                         "Patient " + std::to_string(i) + ": glucose " + std::to_string(80 + i) +
                                             ". Q: Normal, prediabetes or diabetes? A:",
                                         {" normal", " prediabetes", " diabetes"}, i % 3));
  return testing::write_suite(dir, "faults", {{"cls", "choice"}}, lines);
}

struct FaultRun {
  TempDir dir;
  fs::path suite, model, earlier;
  FaultRun() {
    suite = write_suite(dir);
    model = testing::write_model(dir, "m", 9);
    earlier = dir / "earlier";
    const ChildResult r = run_child(args("--out", earlier));
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }
  std::vector<std::string> args(const std::string& mode, const fs::path& run_dir) const {
    return {TENX_BINARY, "run", "--model", "m=" + model.string(), "--suites", suite.string(), "--threads", "1",
            "--quiet", mode, run_dir.string()};
  }
};

// Every file of a folder and its SHA-256.
std::map<std::string, std::string> hashes(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out[e.path().filename().string()] = sha256_file(e.path());
  return out;
}

std::vector<std::string> compared_lines(const RunResult& run) {
  std::vector<std::string> out;
  for (const ItemRecord& r : run.records) out.push_back(soak::compared_line(r));
  return out;
}

bool has_temp_leftover(const fs::path& dir) {
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().find(".tmp.") != std::string::npos) return true;
  return false;
}

// The journal holds only whole records, each one parses.
size_t whole_records(const fs::path& journal) {
  const std::string text = testing::read_text(journal);
  EXPECT_TRUE(text.empty() || text.back() == '\n') << "the journal ends in a torn line";
  size_t n = 0, start = 0;
  for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1, ++n)
    EXPECT_NO_THROW(item_record_from_json(Json::parse(text.substr(start, nl - start)), "journal")) << "line " << n + 1;
  return n;
}

std::function<void()> file_size_limit(rlim_t bytes) {
  return [bytes] {
    ::signal(SIGXFSZ, SIG_IGN);  // a write past the limit then fails with EFBIG instead of killing
    const rlimit lim{bytes, bytes};
    ::setrlimit(RLIMIT_FSIZE, &lim);
  };
}

TEST(OutputFaults, FileSizeLimitMidJournalFailsClearlyAndTheJournalResumesToTheFullResults) {
  FaultRun s;
  const auto before = hashes(s.earlier);
  const auto run_json = fs::file_size(s.earlier / "run.json"), journal = fs::file_size(s.earlier / "journal.jsonl");
  const rlim_t limit = journal / 2;
  ASSERT_LT(run_json + 512, limit) << "run.json must fit under the limit, the journal not";

  const fs::path full = s.dir / "full";
  const ChildResult r = run_child(s.args("--out", full), file_size_limit(limit));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err, "tenx: error: " + (full / "journal.jsonl").string() + ": cannot write: File too large\n");
  EXPECT_FALSE(fs::exists(full / "items.jsonl"));
  EXPECT_FALSE(fs::exists(full / "report.json"));
  EXPECT_FALSE(has_temp_leftover(full));
  const size_t kept = whole_records(full / "journal.jsonl");
  EXPECT_GE(kept, 16u);
  EXPECT_LT(kept, static_cast<size_t>(kItems));
  EXPECT_LE(fs::file_size(full / "journal.jsonl"), limit);
  EXPECT_EQ(hashes(s.earlier), before) << "the earlier run's files changed";

  const ChildResult resumed = run_child(s.args("--resume", full));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_EQ(compared_lines(read_run(full)), compared_lines(read_run(s.earlier)));
  EXPECT_EQ(whole_records(full / "journal.jsonl"), static_cast<size_t>(kItems));
}

TEST(OutputFaults, FileSizeLimitBelowRunJsonLeavesAnEmptyFolder) {
  FaultRun s;
  const fs::path full = s.dir / "tiny-limit";
  const ChildResult r = run_child(s.args("--out", full), file_size_limit(256));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err, "tenx: error: " + (full / "run.json").string() + ": write failed: File too large\n");
  EXPECT_TRUE(fs::is_empty(full)) << "the failed write left a file behind";
}

// Root may write anywhere, so the child drops to nobody (65534) before exec; others lose the
// folder's write permission instead.
std::function<void()> as_nobody() {
  if (::geteuid() != 0) return {};
  return [] {
    if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(125);
  };
}

void lock(const fs::path& dir) {
  if (::geteuid() != 0) fs::permissions(dir, fs::perms::owner_write, fs::perm_options::remove);
}

TEST(OutputFaults, UnwritableOutputFolderFailsWithPermissionDeniedAndNoFiles) {
  FaultRun s;
  // nobody must be able to read the model and suite and run tenx.
  for (const auto& e : fs::recursive_directory_iterator(s.dir.path()))
    fs::permissions(e.path(), e.is_directory() ? fs::perms(0755) : fs::perms(0644));
  fs::permissions(s.dir.path(), fs::perms(0755));
  const ChildResult probe = run_child({TENX_BINARY, "suites", "validate", s.suite.string()}, as_nobody());
  if (probe.exit_code != 0)
    GTEST_SKIP() << "tenx cannot run as nobody here (exit " << probe.exit_code << "): " << probe.err;

  const fs::path locked = s.dir / "locked";
  fs::create_directories(locked);
  lock(locked);

  // A new folder inside it cannot be created.
  const ChildResult a = run_child(s.args("--out", locked / "run"), as_nobody());
  EXPECT_EQ(a.exit_code, 2);
  EXPECT_EQ(a.err, "tenx: error: " + (locked / "run").string() + ": cannot create the run folder: Permission denied\n");
  EXPECT_TRUE(fs::is_empty(locked));

  // The empty folder itself: run.json cannot be written, nothing is left.
  const ChildResult b = run_child(s.args("--out", locked), as_nobody());
  EXPECT_EQ(b.exit_code, 2);
  EXPECT_EQ(b.err, "tenx: error: " + (locked / "run.json").string() +
                       ": cannot create a temporary file beside it: Permission denied\n");
  EXPECT_TRUE(fs::is_empty(locked));

  // Resuming a finished run whose folder became read-only: refused before any file changes.
  lock(s.earlier);
  const auto before = hashes(s.earlier);
  const ChildResult c = run_child(s.args("--resume", s.earlier), as_nobody());
  EXPECT_EQ(c.exit_code, 2);
  EXPECT_NE(c.err.find((s.earlier / "run.json").string() + ": cannot create a temporary file beside it: Permission denied"),
            std::string::npos)
      << c.err;
  EXPECT_EQ(hashes(s.earlier), before);
  if (::geteuid() != 0) fs::permissions(s.earlier, fs::perms::owner_write, fs::perm_options::add);
}

TEST(OutputFaults, AJournalThatIsADeviceIsRefusedInsteadOfReadForever) {
  FaultRun s;
  const fs::path dir = s.dir / "device";
  fs::create_directories(dir);
  fs::copy_file(s.earlier / "run.json", dir / "run.json");
  fs::create_symlink("/dev/full", dir / "journal.jsonl");
  const ChildResult r = run_child(s.args("--resume", dir));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "tenx: error: " + (dir / "journal.jsonl").string() +
                       ": not a regular file (a run journal is a plain file)\n");
  EXPECT_FALSE(fs::exists(dir / "items.jsonl"));
}

// Bytes a folder's files take on a tmpfs (whole pages).
uintmax_t pages_bytes(const fs::path& dir) {
  uintmax_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += (e.file_size() + 4095) / 4096 * 4096;
  return n;
}

TEST(OutputFaults, FullFileSystemFailsWithNoSpaceAndEarlierResultsOnItSurvive) {
  if (::geteuid() != 0 || !fs::exists("/usr/bin/unshare")) GTEST_SKIP() << "needs root and unshare to mount a small tmpfs";
  FaultRun s;
  const auto before = hashes(s.earlier);
  // Room for the earlier run and two more pages: run.json fits, the journal does not.
  const uintmax_t size = pages_bytes(s.earlier) + 2 * 4096;
  const fs::path mnt = s.dir / "mnt", saved = s.dir / "saved";
  fs::create_directories(mnt);
  fs::create_directories(saved);
  std::string cmd;
  for (const std::string& a : s.args("--out", mnt / "new")) cmd += "'" + a + "' ";
  const std::string script = "mount -t tmpfs -o size=" + std::to_string(size) + " tmpfs '" + mnt.string() +
                             "' || exit 99; cp -a '" + s.earlier.string() + "' '" + mnt.string() + "/earlier' || exit 98; " +
                             cmd + "; rc=$?; cp -a '" + mnt.string() + "/.' '" + saved.string() + "/'; exit $rc";
  const ChildResult r = run_child({"/usr/bin/unshare", "-m", "/bin/sh", "-c", script});
  if (r.exit_code == 99 || r.exit_code == 1) GTEST_SKIP() << "cannot mount a tmpfs here: " << r.err;
  ASSERT_NE(r.exit_code, 98) << r.err;
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("tenx: error: " + (mnt / "new").string() + "/"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(": No space left on device\n"), std::string::npos) << r.err;
  EXPECT_EQ(hashes(saved / "earlier"), before) << "the earlier run on the full file system changed";
  EXPECT_FALSE(fs::exists(saved / "new" / "items.jsonl"));
  ASSERT_TRUE(fs::exists(saved / "new" / "run.json")) << r.err;
  whole_records(saved / "new" / "journal.jsonl");
  // The copy of the interrupted run, on a disk with room, resumes to the full results.
  const ChildResult resumed = run_child(s.args("--resume", saved / "new"));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_EQ(compared_lines(read_run(saved / "new")), compared_lines(read_run(s.earlier)));
}

}  // namespace
}  // namespace tenx::eval
