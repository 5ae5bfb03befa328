// tenx model init --mmproj TYPE: each projector type written through the CLI loads back with the
// sizes asked for, its JSON agrees with the file, the same seed gives the same bytes, and tenx
// inspect shows it with FLOPs per image == analytic; tenx run takes one beside a text model or by
// --mmproj, and records each image's FLOPs as inspect gives them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "tenx/model/clip.hpp"
#include "tenx/util/read_file.hpp"

namespace tenx {
namespace {

struct CliRun {
  int status;
  std::string out, err;
};

CliRun run_tenx(const std::string& dir, const std::string& args) {
  const std::string out = dir + "/stdout", err = dir + "/stderr";
  const std::string cmd = std::string("'") + TENX_BINARY + "' " + args + " >'" + out + "' 2>'" + err + "'";
  const int status = std::system(cmd.c_str());
  return {WEXITSTATUS(status), read_file(out), read_file(err)};
}

TEST(ClipCli, ModelInitMmprojRoundTripsEveryProjector) {
  const std::string dir = ::testing::TempDir() + "/clip_cli_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  for (const char* type : {"mlp", "idefics3", "gemma3", "muse-glimmer"}) {
    const std::string path = dir + "/" + type + ".mmproj.gguf";
    const std::string args = std::string("model init --mmproj ") + type +
                             " --dim 64 --layers 2 --heads 4 --ffn 160 --image-size 64 --patch 8 --out-dim 96 "
                             "--type f16 --seed 3 --json '" + path + "'";
    const CliRun r = run_tenx(dir, args);
    ASSERT_EQ(r.status, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    const ClipModel m = ClipModel::load(path);
    const ClipHparams& h = m.hparams();
    EXPECT_EQ(clip_projector_name(h.projector), std::string(type));
    EXPECT_EQ(h.n_embd, 64);
    EXPECT_EQ(h.n_layer, 2);
    EXPECT_EQ(h.n_head, 4);
    EXPECT_EQ(h.n_ff, 160);
    EXPECT_EQ(h.image_size, 64);
    EXPECT_EQ(h.patch_size, 8);
    EXPECT_EQ(h.n_embd_out, 96);
    EXPECT_EQ(h.scale_factor, std::string(type) == "gemma3" ? 4 : std::string(type) == "mlp" ? 1 : 2);
    EXPECT_EQ(j["n_output_tokens"].get<int64_t>(), h.n_output_tokens());
    EXPECT_EQ(j["n_params"].get<int64_t>(), m.n_params());
    EXPECT_EQ(j["flops_per_image"].get<uint64_t>(), analytic_clip_image(m).total_flops());
    // tenx inspect on the file: the encoder's figures, FLOPs per image == analytic.
    const CliRun ins = run_tenx(dir, "inspect --json '" + path + "'");
    ASSERT_EQ(ins.status, 0) << ins.err;
    const auto ij = nlohmann::json::parse(ins.out);
    EXPECT_EQ(ij["projector"].get<std::string>(), type);
    EXPECT_EQ(ij["n_output_tokens"].get<int64_t>(), h.n_output_tokens());
    EXPECT_EQ(ij["flops_per_image"].get<uint64_t>(), analytic_clip_image(m).total_flops());
    EXPECT_EQ(ij["n_params"].get<int64_t>(), m.n_params());
    EXPECT_EQ(ij["config"]["n_layer_run"].get<int64_t>(), std::string(type) == "mlp" ? 1 : 2);
    const CliRun text = run_tenx(dir, "inspect '" + path + "'");
    EXPECT_EQ(text.status, 0) << text.err;
    EXPECT_NE(text.out.find("FLOPs (matmul"), std::string::npos) << text.out;
    ASSERT_EQ(run_tenx(dir, args.substr(0, args.size() - path.size() - 2) + "'" + path + ".again'").status, 0);
    EXPECT_EQ(read_file(path), read_file(path + ".again")) << type;
  }
  // A text model still needs --vocab; a k-quant is no mmproj storage type.
  EXPECT_EQ(run_tenx(dir, "model init --dim 8 --layers 1 --heads 2 --ffn 16 --seed 1 '" + dir + "/t.gguf'").status, 2);
  const CliRun q4 = run_tenx(dir, "model init --mmproj mlp --dim 64 --layers 1 --heads 4 --ffn 96 --type q4_k --seed 1 '" +
                                      dir + "/q.gguf'");
  EXPECT_EQ(q4.status, 2);
  EXPECT_NE(q4.err.find("f32, f16 or q8_0"), std::string::npos) << q4.err;
  std::filesystem::remove_all(dir);
}

TEST(ClipCli, RunUsesTheMmprojBesideTheModelOrGiven) {
  const std::string dir = ::testing::TempDir() + "/clip_cli_run_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  ASSERT_EQ(run_tenx(dir, "model init --arch gemma3 --dim 64 --layers 2 --heads 4 --kv-heads 4 --ffn 128 --vocab 512 "
                          "--seed 1 '" + dir + "/vlm.gguf'").status, 0);
  const std::string enc = " --dim 32 --layers 2 --heads 4 --ffn 64 --image-size 32 --patch 8 --seed 2 --json ";
  const CliRun made = run_tenx(dir, "model init --mmproj gemma3 --out-dim 64" + enc + "'" + dir + "/vlm.mmproj.gguf'");
  ASSERT_EQ(made.status, 0) << made.err;
  const uint64_t per_image = nlohmann::json::parse(made.out)["flops_per_image"].get<uint64_t>();
  const CliRun run = run_tenx(dir, "run --model vlm='" + dir + "/vlm.gguf' --suites multimodal --limit 12 --seed 2 "
                                   "--formats json -q --out '" + dir + "/run'");
  ASSERT_EQ(run.status, 0) << run.err;
  std::istringstream lines(read_file(dir + "/run/items.jsonl"));
  int images = 0;
  for (std::string line; std::getline(lines, line);) {
    const auto r = nlohmann::json::parse(line);
    if (r["image_positions"].get<int64_t>() == 0) continue;
    EXPECT_EQ(r["image_flops"].get<uint64_t>(), per_image) << line;  // every image is 8x8: one grid
    ++images;
  }
  EXPECT_GT(images, 2);

  // --mmproj naming no --model, and an encoder 96 wide for a 64-wide model: refused, naming the files.
  ASSERT_EQ(run_tenx(dir, "model init --mmproj mlp --out-dim 96" + enc + "'" + dir + "/wide.gguf'").status, 0);
  const CliRun unknown = run_tenx(dir, "run --model vlm='" + dir + "/vlm.gguf' --mmproj other='" + dir +
                                           "/wide.gguf' --suites multimodal --limit 2 -q --out '" + dir + "/r2'");
  EXPECT_NE(unknown.status, 0);
  EXPECT_NE(unknown.err.find("--mmproj"), std::string::npos) << unknown.err;
  const CliRun wide = run_tenx(dir, "run --model vlm='" + dir + "/vlm.gguf' --mmproj vlm='" + dir +
                                        "/wide.gguf' --suites multimodal --limit 2 -q --out '" + dir + "/r3'");
  EXPECT_NE(wide.status, 0);
  EXPECT_NE(wide.err.find(dir + "/wide.gguf"), std::string::npos) << wide.err;
  EXPECT_NE(wide.err.find(dir + "/vlm.gguf"), std::string::npos) << wide.err;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tenx
