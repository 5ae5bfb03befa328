// tenx run with a real vision encoder (an llama.cpp mmproj, docs/vision.md "In tenx run"): a random
// text model and a random mmproj of each projector type beside it run the shipped multimodal suite;
// each image item's image_flops / image_bytes_read must equal the analytic cost of one encode at the
// image's grid (clip_analytic.cpp), and the log-likelihoods must be those of a Decoder fed, in this
// test, the encoder's rows at positions built by hand from llama.cpp's marker strings.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "decoder/naive_forward.hpp"
#include "records_jsonl.hpp"
#include "runner_fixtures.hpp"
#include "tenx/eval/report/metrics.hpp"
#include "tenx/eval/run/item_runner.hpp"
#include "tenx/eval/run/runner.hpp"
#include "tenx/model/clip.hpp"
#include "tenx/model/generation.hpp"
#include "tenx/model/model.hpp"
#include "tenx/model/model_init.hpp"
#include "tenx/suites/suite_io.hpp"
#include "tenx/util/error.hpp"

namespace tenx::eval {
namespace {

using testing::TempDir;

constexpr int64_t kWidth = 32;  // the text model's embedding width

// A string-content template (Qwen-style) and one that reads only typed content parts (SmolVLM's
// iterates message.content).
const std::string kStringTemplate =
    "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";
const std::string kTypedTemplate =
    "{% for m in messages %}<|im_start|>{{ m.role }}:{% for line in m.content %}{% if line.type == 'text' %}"
    "{{ line.text }}{% endif %}{% endfor %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant:{% endif %}";

std::filesystem::path write_text_model(const TempDir& dir, const std::string& name, const std::string& tpl = "",
                                       const std::string& arch = "llama") {
  ModelInitSpec spec;
  spec.arch = arch;
  spec.sliding_window = arch == "gemma3" ? 3 : 0;  // shorter than the image: the window cuts its rows' keys
  spec.swa_period = 2;
  spec.n_embd = kWidth;
  spec.n_layer = 2;
  spec.n_head = 4;
  spec.n_ff = 64;
  spec.n_vocab = 300;
  spec.n_ctx = 512;
  spec.seed = 7;
  spec.chat_template = tpl;
  spec.control_tokens = {"<|im_start|>", "<|im_end|>", "<start_of_image>", "<end_of_image>", "<|image_start|>",
                         "<|image_end|>", "<fake_token_around_image>", "<global-img>"};
  const std::filesystem::path file = dir / (name + ".gguf");
  write_random_model(file.string(), spec);
  return file;
}

ClipInitSpec clip_spec(ClipProjector p, int64_t out = kWidth) {
  ClipInitSpec c;
  c.projector = p;
  c.image_size = 32;
  c.patch_size = 8;
  c.n_embd = 32;
  c.n_ff = 64;
  c.n_layer = 2;
  c.n_head = 4;
  c.n_embd_out = out;
  c.scale_factor = 2;
  c.seed = 11;
  return c;
}

RunOptions multimodal_run(const std::filesystem::path& model, const std::filesystem::path& out, int batch = 1) {
  RunOptions o;
  o.models = {{"vlm", model.string()}};
  o.suites = {"multimodal"};
  o.limit = 24;  // every task (image and blind) of the shipped suite
  o.seed = 5;
  o.threads = 2;
  o.batch = batch;
  o.protocol = "completion";
  o.out_dir = out;
  o.quiet = true;
  return o;
}

// Every image record of a run costs what analytic_clip_image says for its image's grid.
void expect_image_costs_analytic(const RunResult& run, const ClipModel& clip, const suites::Suite& suite) {
  std::map<std::string, const suites::Item*> by_id;
  for (const suites::Item& item : suite.split("test")) by_id[item.id] = &item;
  int images = 0, blind = 0;
  for (const ItemRecord& r : run.records) {
    const suites::Item* item = by_id.at(r.item);
    ASSERT_TRUE(r.applicable) << r.item;
    ASSERT_TRUE(r.error.empty()) << r.item << ": " << r.error;
    if (!item->image) {
      EXPECT_EQ(r.image_flops, 0u) << r.item;
      EXPECT_EQ(r.image_positions, 0) << r.item;
      ++blind;
      continue;
    }
    const ClipGrid grid = clip.grid_for(item->image->w, item->image->h);
    // A tiling idefics3 file encodes cols × rows tiles and the overview, each at the one grid.
    const auto [cols, rows] = clip_tile_counts(clip.hparams(), item->image->w, item->image->h);
    Counters a;
    for (int64_t i = 0; i < cols * rows + 1; ++i) a += analytic_clip_image(clip, grid);
    EXPECT_EQ(r.image_positions, (cols * rows + 1) * clip.hparams().n_output_tokens(grid)) << r.item;
    EXPECT_EQ(r.image_flops, a.total_flops()) << r.item;
    EXPECT_EQ(r.image_bytes_read, a.total_bytes_read()) << r.item;
    EXPECT_GT(r.flops, r.image_flops) << r.item;  // the text model's share comes on top
    ++images;
  }
  EXPECT_GT(images, 4);
  EXPECT_GT(blind, 4);
}

TEST(RunnerMmproj, EveryProjectorRunsTheMultimodalSuiteAtTheAnalyticImageCost) {
  const suites::Suite suite = suites::load_suite(std::string(TENX_SOURCE_DIR) + "/data/suites/multimodal");
  ClipInitSpec tiling = clip_spec(ClipProjector::Idefics3);
  tiling.preproc_image_size = 64;  // SmolVLM-style: an 8×8 digit becomes 2 × 2 tiles + the overview
  for (const ClipInitSpec& spec : {clip_spec(ClipProjector::Mlp), clip_spec(ClipProjector::Idefics3),
                                   clip_spec(ClipProjector::Gemma3), clip_spec(ClipProjector::MuseGlimmer), tiling}) {
    SCOPED_TRACE(std::string(clip_projector_name(spec.projector)) + (spec.preproc_image_size ? " tiled" : ""));
    TempDir dir;
    const auto model = write_text_model(dir, "vlm");
    const std::string mmproj = (dir / "vlm.mmproj.gguf").string();  // found beside the model
    write_random_clip(mmproj, spec);
    const RunResult run = run_evaluation(multimodal_run(model, dir / "run"));
    ASSERT_EQ(run.manifest.models.size(), 1u);
    EXPECT_EQ(run.manifest.models[0].projector_path, mmproj);
    EXPECT_EQ(run.manifest.models[0].projector_type, clip_projector_name(spec.projector));
    const ClipModel clip = ClipModel::load(mmproj);
    expect_image_costs_analytic(run, clip, suite);

    // The report's per-suite figures: image FLOPs apart from the text's.
    const RunMetrics m = compute_metrics(run);
    ASSERT_FALSE(m.suites.empty());
    double image = 0, total = 0;
    for (const ItemRecord& r : run.records) image += static_cast<double>(r.image_flops), total += static_cast<double>(r.flops);
    const ComputeMetrics& c = m.suites[0].compute;
    EXPECT_DOUBLE_EQ(c.image_flops_total, image);
    EXPECT_NEAR(c.image_flops_per_item, image / static_cast<double>(run.records.size()), 1e-9 * image);
    EXPECT_NEAR(c.flops_per_item, total / static_cast<double>(run.records.size()), 1e-9 * total);
  }
}

// --mmproj NAME=FILE from another folder, under chat with either kind of template: the same costs.
TEST(RunnerMmproj, ChatProtocolAndExplicitMmproj) {
  const suites::Suite suite = suites::load_suite(std::string(TENX_SOURCE_DIR) + "/data/suites/multimodal");
  for (const std::string& tpl : {kStringTemplate, kTypedTemplate}) {
    TempDir dir;
    const auto model = write_text_model(dir, "vlm", tpl);
    const std::string mmproj = (dir / "elsewhere" / "encoder.gguf").string();
    std::filesystem::create_directories(dir / "elsewhere");
    write_random_clip(mmproj, clip_spec(ClipProjector::Gemma3));
    RunOptions o = multimodal_run(model, dir / "run");
    o.protocol = "chat";
    o.mmproj_files = {{"vlm", mmproj}};
    const RunResult run = run_evaluation(o);
    EXPECT_EQ(run.manifest.models[0].protocol, "chat");
    EXPECT_EQ(run.manifest.models[0].projector_path, mmproj);
    expect_image_costs_analytic(run, ClipModel::load(mmproj), suite);
  }
}

TEST(RunnerMmproj, WidthMismatchIsRefusedNamingBothFiles) {
  TempDir dir;
  const auto model = write_text_model(dir, "vlm");
  const std::string mmproj = (dir / "vlm.mmproj.gguf").string();
  write_random_clip(mmproj, clip_spec(ClipProjector::Mlp, 48));
  try {
    run_evaluation(multimodal_run(model, dir / "run"));
    FAIL() << "a 48-wide projector for a 32-wide model ran";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(mmproj), std::string::npos) << what;
    EXPECT_NE(what.find(model.string()), std::string::npos) << what;
    EXPECT_NE(what.find("48"), std::string::npos) << what;
  }
  // A --mmproj file that is not there, or not a vision file (the text model itself).
  RunOptions o = multimodal_run(model, dir / "run2");
  o.mmproj_files = {{"vlm", (dir / "missing.gguf").string()}};
  EXPECT_THROW(run_evaluation(o), Error);
  o.out_dir = dir / "run3";
  o.mmproj_files = {{"vlm", model.string()}};
  try {
    run_evaluation(o);
    FAIL() << "a text model ran as a vision encoder";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not a vision encoder"), std::string::npos) << e.what();
  }
}

TEST(RunnerMmproj, BatchedRecordsAreTheSameAsOneAtATime) {
  TempDir dir;
  const auto model = write_text_model(dir, "vlm");
  write_random_clip((dir / "vlm.mmproj.gguf").string(), clip_spec(ClipProjector::MuseGlimmer));
  run_evaluation(multimodal_run(model, dir / "k1", 1));
  run_evaluation(multimodal_run(model, dir / "k5", 5));
  const auto a = testing::records_without_timing(dir / "k1" / "items.jsonl");
  const auto b = testing::records_without_timing(dir / "k5" / "items.jsonl");
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].dump(), b[i].dump()) << "record " << i;
}

// The splice, checked from outside: the log-likelihoods of the choices equal a Decoder fed the
// encoder's rows at positions this test builds from llama.cpp's marker strings (mtmd.cpp), a gemma3
// image's rows seeing each other (mtmd_decode_use_non_causal).
struct Spliced {
  std::vector<int32_t> ids;
  std::vector<const float*> rows;
  std::vector<int32_t> lookahead;
};

// Σ log p(choice's tokens) from all-logits rows (n_vocab each, row t predicting token t + 1).
template <class Logits>
double choice_loglik(const Logits& logits, int64_t V, const std::vector<int32_t>& ids, size_t start) {
  double sum = 0;
  for (size_t t = start; t < ids.size(); ++t) {
    const size_t row = (t - 1) * static_cast<size_t>(V);
    double mx = -1e300, z = 0;
    for (int64_t v = 0; v < V; ++v) mx = std::max(mx, static_cast<double>(logits[row + v]));
    for (int64_t v = 0; v < V; ++v) z += std::exp(static_cast<double>(logits[row + v]) - mx);
    sum += static_cast<double>(logits[row + ids[t]]) - mx - std::log(z);
  }
  return sum;
}

Spliced with_choice(const Tokenizer& tok, Spliced s, const std::string& choice) {
  for (int32_t id : tok.encode(choice, false, false)) {
    s.ids.push_back(id);
    s.rows.push_back(nullptr);
    if (!s.lookahead.empty()) s.lookahead.push_back(0);  // empty: every position causal
  }
  return s;
}

double direct_loglik(const Model& model, const Tokenizer& tok, const Spliced& prompt, const std::string& choice) {
  const Spliced s = with_choice(tok, prompt, choice);
  ExecContext ctx(1);
  Decoder dec(model, 256);
  const std::span<const float> logits = dec.eval(ctx, s.ids, 0, true, s.rows, s.lookahead);
  return choice_loglik(logits, model.config.n_vocab, s.ids, prompt.ids.size());
}

TEST(RunnerMmproj, ChoiceScoresAreTheDecoderFedTheEncoderRowsAtTheMarker) {
  TempDir dir;
  const auto file = write_text_model(dir, "vlm", kStringTemplate);
  const Model model = Model::load(file.string());
  const Tokenizer tok = Tokenizer::from_metadata(model.file.meta, file.string());
  const std::string mmproj = (dir / "vlm.mmproj.gguf").string();
  write_random_clip(mmproj, clip_spec(ClipProjector::Gemma3));
  const ClipModel clip = ClipModel::load(mmproj);
  suites::Item item;
  item.id = "x-0";
  item.task = "x";
  item.body = suites::ChoiceBody{"<image> Q: Which digit? A:", {" 1", " 7"}, 1};
  std::vector<uint8_t> px(8 * 8);
  for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<uint8_t>((i * 5) % 17);
  item.image = suites::Image{8, 8, 1, 16, px, ""};

  ExecContext enc_ctx(1);
  const std::vector<float> image =
      clip.encode(enc_ctx, ImagePixels{8, 8, 1, 16, std::span<const uint8_t>(item.image->pixels)});
  const int64_t n = static_cast<int64_t>(image.size()) / kWidth;
  ASSERT_EQ(n, clip.hparams().n_output_tokens());
  const std::vector<int32_t> soi = tok.encode("<start_of_image>", false, true), eoi = tok.encode("<end_of_image>", false, true);
  ASSERT_EQ(soi.size(), 1u);  // one control token each: the markers are parsed as special
  ASSERT_EQ(eoi.size(), 1u);
  auto image_part = [&](Spliced& s) {
    s.ids.push_back(soi[0]);
    s.rows.push_back(nullptr);
    s.lookahead.push_back(0);
    for (int64_t r = 0; r < n; ++r) {
      s.ids.push_back(image_token_id(tok));
      s.rows.push_back(image.data() + r * kWidth);
      s.lookahead.push_back(static_cast<int32_t>(n - 1 - r));  // up to the image's last row
    }
    s.ids.push_back(eoi[0]);
    s.rows.push_back(nullptr);
    s.lookahead.push_back(0);
  };
  auto text_part = [&](Spliced& s, const std::string& text, bool special) {
    for (int32_t id : tok.encode(text, false, special)) {
      s.ids.push_back(id);
      s.rows.push_back(nullptr);
      s.lookahead.push_back(0);
    }
  };
  const int32_t bos = tok.bos_id() >= 0 ? tok.bos_id() : tok.eos_id();

  // Completion: bos, the marker's image part, then the rest of the context.
  Spliced completion{{bos}, {nullptr}, {0}};
  image_part(completion);
  text_part(completion, " Q: Which digit? A:", false);
  // Chat: the rendered conversation around the same image part (the vocabulary adds no bos).
  Spliced chat;
  ASSERT_FALSE(tok.add_bos() && tok.bos_id() >= 0);
  text_part(chat, "<|im_start|>user\n", true);
  image_part(chat);
  text_part(chat, " Q: Which digit? A:<|im_end|>\n<|im_start|>assistant\n", true);

  for (bool under_chat : {false, true}) {
    SCOPED_TRACE(under_chat ? "chat" : "completion");
    ItemRunner runner(model, tok, nullptr, 1);
    runner.set_vision_encoder(&clip);
    const std::optional<ChatFormat> format = chat_format_of(model.file.meta, file.string());
    ASSERT_TRUE(format);
    if (under_chat) runner.set_protocol(Protocol::chat, &*format, nullptr);
    const ItemRecord r = runner.run(item);
    ASSERT_TRUE(r.error.empty()) << r.error;
    EXPECT_EQ(r.image_positions, n);
    EXPECT_EQ(r.image_flops, analytic_clip_image(clip).total_flops());
    const Spliced& prompt = under_chat ? chat : completion;
    for (size_t c = 0; c < 2; ++c) {
      // Under chat each choice is the assistant's reply, without its leading space.
      const std::string choice = under_chat ? chat_reply(item.choice().choices[c]) : item.choice().choices[c];
      const double expected = direct_loglik(model, tok, prompt, choice);
      EXPECT_NEAR(r.loglik[c], expected, 1e-6 * std::max(1.0, std::fabs(expected))) << "choice " << c;
    }
    // The naive cost encodes the image once per choice.
    EXPECT_GE(r.flops_naive, 2 * r.image_flops);
  }
}

// End to end on a gemma3 pair (`tenx model init` text model, sliding-window layers shorter than the
// image, and `--mmproj gemma3`): the choices' log-likelihoods equal the float64 oracle with the
// image's rows seeing each other, and differ from the causal oracle's.
TEST(RunnerMmproj, Gemma3ImageRowsSeeEachOtherAsTheFloat64Oracle) {
  TempDir dir;
  const auto file = write_text_model(dir, "g3", "", "gemma3");
  const Model model = Model::load(file.string());
  ASSERT_EQ(model.config.arch, "gemma3");
  const Tokenizer tok = Tokenizer::from_metadata(model.file.meta, file.string());
  const std::string mmproj = (dir / "g3.mmproj.gguf").string();
  write_random_clip(mmproj, clip_spec(ClipProjector::Gemma3));
  const ClipModel clip = ClipModel::load(mmproj);
  suites::Item item;
  item.id = "x-0";
  item.task = "x";
  item.body = suites::ChoiceBody{"<image> Q: Which digit? A:", {" 1", " 7"}, 1};
  std::vector<uint8_t> px(8 * 8);
  for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<uint8_t>((i * 7) % 17);
  item.image = suites::Image{8, 8, 1, 16, px, ""};
  ExecContext enc_ctx(1);
  const std::vector<float> image =
      clip.encode(enc_ctx, ImagePixels{8, 8, 1, 16, std::span<const uint8_t>(item.image->pixels)});
  const int64_t n = static_cast<int64_t>(image.size()) / kWidth;
  ASSERT_GT(n, 3);  // longer than the window

  Spliced prompt;
  auto text_part = [&](const std::string& text, bool special) {
    for (int32_t id : tok.encode(text, false, special)) {
      prompt.ids.push_back(id);
      prompt.rows.push_back(nullptr);
      prompt.lookahead.push_back(0);
    }
  };
  prompt.ids.push_back(tok.bos_id() >= 0 ? tok.bos_id() : tok.eos_id());
  prompt.rows.push_back(nullptr);
  prompt.lookahead.push_back(0);
  text_part("<start_of_image>", true);
  for (int64_t r = 0; r < n; ++r) {
    prompt.ids.push_back(image_token_id(tok));
    prompt.rows.push_back(image.data() + r * kWidth);
    prompt.lookahead.push_back(static_cast<int32_t>(n - 1 - r));
  }
  text_part("<end_of_image>", true);
  text_part(" Q: Which digit? A:", false);

  ItemRunner runner(model, tok, nullptr, 1);
  runner.set_vision_encoder(&clip);
  const ItemRecord r = runner.run(item);
  ASSERT_TRUE(r.error.empty()) << r.error;
  ASSERT_EQ(r.loglik.size(), 2u);
  double moved = 0;
  for (size_t c = 0; c < 2; ++c) {
    const Spliced s = with_choice(tok, prompt, item.choice().choices[c]);
    const auto seeing = test::naive_logits(model, s.ids, s.rows, {}, s.lookahead);
    const auto causal = test::naive_logits(model, s.ids, s.rows);
    const double want = choice_loglik(seeing, model.config.n_vocab, s.ids, prompt.ids.size());
    EXPECT_NEAR(r.loglik[c], want, 1e-4 * std::max(1.0, std::fabs(want))) << "choice " << c;
    moved = std::max(moved, std::fabs(want - choice_loglik(causal, model.config.n_vocab, s.ids, prompt.ids.size())));
  }
  EXPECT_GT(moved, 1e-3);  // the causal reading is measurably another one
}

// The tenx-patch projector reports its projection the same way.
TEST(RunnerMmproj, PatchProjectorReportsItsProjectionAsImageFlops) {
  TempDir dir;
  const auto file = testing::write_model(dir, "m");
  const Model model = Model::load(file.string());
  const Tokenizer tok = Tokenizer::from_metadata(model.file.meta, file.string());
  VisionConfig vc;
  vc.patch = 2;
  vc.max_grid = 4;
  vc.n_embd = model.config.n_embd;
  std::vector<float> proj(static_cast<size_t>(vc.patch_dim() * vc.n_embd), 0.01f), bias(static_cast<size_t>(vc.n_embd), 0.f),
      pos(static_cast<size_t>(vc.n_positions() * vc.n_embd), 0.f);
  const std::string proj_path = VisionProjector::path_for_model(file.string());
  write_vision_projector(proj_path, vc, proj, bias, pos);
  const VisionProjector projector = VisionProjector::load(proj_path);
  ItemRunner runner(model, tok, &projector, 1);
  suites::Item item;
  item.id = "x-0";
  item.task = "x";
  item.body = suites::ChoiceBody{"<image> Q: Which digit? A:", {" 1", " 7"}, 1};
  item.image = suites::Image{4, 4, 1, 16, {0, 16, 8, 4, 1, 2, 3, 4, 16, 16, 0, 0, 5, 6, 7, 8}, ""};
  const ItemRecord r = runner.run(item);
  ASSERT_TRUE(r.error.empty()) << r.error;
  const Counters a = analytic_vision_forward(vc.patch_dim(), vc.n_embd, 4, Phase::Prefill);
  EXPECT_EQ(r.image_flops, a.total_flops());
  EXPECT_EQ(r.image_bytes_read, a.total_bytes_read());
}

// The tenx-patch projector under chat: its rows in place of the media marker, no marker text.
TEST(RunnerMmproj, PatchProjectorUnderChat) {
  TempDir dir;
  const auto file = write_text_model(dir, "vlm", kStringTemplate);
  const Model model = Model::load(file.string());
  const Tokenizer tok = Tokenizer::from_metadata(model.file.meta, file.string());
  VisionConfig vc;
  vc.patch = 2;
  vc.max_grid = 4;
  vc.n_embd = kWidth;
  std::vector<float> proj(static_cast<size_t>(vc.patch_dim() * vc.n_embd)), bias(static_cast<size_t>(vc.n_embd), 0.f),
      pos(static_cast<size_t>(vc.n_positions() * vc.n_embd), 0.f);
  for (size_t i = 0; i < proj.size(); ++i) proj[i] = 0.05f * static_cast<float>(static_cast<int>(i % 7) - 3);
  const std::string proj_path = VisionProjector::path_for_model(file.string());
  write_vision_projector(proj_path, vc, proj, bias, pos);
  const VisionProjector projector = VisionProjector::load(proj_path);
  const std::optional<ChatFormat> format = chat_format_of(model.file.meta, file.string());
  ASSERT_TRUE(format);
  ItemRunner runner(model, tok, &projector, 1);
  runner.set_protocol(Protocol::chat, &*format, nullptr);
  suites::Item item;
  item.id = "x-0";
  item.task = "x";
  item.body = suites::ChoiceBody{"<image> Q: Which digit? A:", {" 1", " 7"}, 1};
  item.image = suites::Image{4, 4, 1, 16, {0, 16, 8, 4, 1, 2, 3, 4, 16, 16, 0, 0, 5, 6, 7, 8}, ""};
  const ItemRecord r = runner.run(item);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.image_positions, 4);
  EXPECT_EQ(r.image_flops, analytic_vision_forward(vc.patch_dim(), vc.n_embd, 4, Phase::Prefill).total_flops());

  ExecContext ctx(1);
  const std::vector<float> rows =
      projector.project(ctx, ImagePixels{4, 4, 1, 16, std::span<const uint8_t>(item.image->pixels)});
  Spliced chat;
  for (int32_t id : tok.encode("<|im_start|>user\n", false, true)) chat.ids.push_back(id), chat.rows.push_back(nullptr);
  for (int64_t p = 0; p < 4; ++p) chat.ids.push_back(image_token_id(tok)), chat.rows.push_back(rows.data() + p * kWidth);
  for (int32_t id : tok.encode(" Q: Which digit? A:<|im_end|>\n<|im_start|>assistant\n", false, true))
    chat.ids.push_back(id), chat.rows.push_back(nullptr);
  for (size_t c = 0; c < 2; ++c) {
    const double expected = direct_loglik(model, tok, chat, chat_reply(item.choice().choices[c]));
    EXPECT_NEAR(r.loglik[c], expected, 1e-6 * std::max(1.0, std::fabs(expected))) << "choice " << c;
  }
}

}  // namespace
}  // namespace tenx::eval
