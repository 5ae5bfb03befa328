// tenx_mtmd_peer: llama.cpp's mtmd (its mmproj encoder, its image splice, its text model) against
// tenx on the same files, in one process. Built only with -DTENX_NATIVE_LLAMA=DIR (a native
// llama.cpp build, benchmarks/peer/native.sh; never in CI). Learnt from mtmd.h / mtmd-helper.h;
// nothing of llama.cpp is copied here.
//
//   tenx_mtmd_peer parity DIR          random `tenx model init` pairs, one per projector type, written
//                                      to DIR: image rows and the log-probabilities after the image
//   tenx_mtmd_peer bench TEXT MMPROJ PX ROUNDS
//                                      images/s of tenx's encoder and of mtmd's, alternated, 2 threads
//
// parity prints one table row per projector and exits 1 when a bound is broken: image rows within
// 1e-4 of the largest value (1e-3 where ggml's F16 GELU table rounds, docs/peers.md), and within
// 1e-4 for every projector when tenx's encoder uses the same tables (GeluNumerics); the text
// model, before the image and fed llama.cpp's own rows after it, within peers.md's F32 bounds.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "llama.h"
#include "mtmd-helper.h"
#include "mtmd.h"
#include "tenx/model/clip.hpp"
#include "tenx/model/decoder.hpp"
#include "tenx/model/model.hpp"
#include "tenx/model/model_file.hpp"
#include "tenx/model/model_init.hpp"
#include "tenx/model/tokenizer.hpp"
#include "tenx/model/vision.hpp"
#include "tenx/tensor/half.hpp"

namespace {

using namespace tenx;

void quiet(ggml_log_level level, const char* text, void*) {
  if (level >= GGML_LOG_LEVEL_ERROR) std::fputs(text, stderr);
}

struct Llama {
  llama_model* model = nullptr;
  llama_context* lctx = nullptr;
  mtmd_context* mctx = nullptr;
  Llama(const std::string& text, const std::string& mmproj) {
    llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = 0;
    model = llama_model_load_from_file(text.c_str(), mp);
    if (!model) throw std::runtime_error("llama.cpp cannot load " + text);
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = 1024;
    cp.n_batch = cp.n_ubatch = 512;
    cp.n_threads = cp.n_threads_batch = 2;
    cp.type_k = cp.type_v = GGML_TYPE_F32;  // peers.md's exact setting
    cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
    lctx = llama_init_from_model(model, cp);
    mtmd_context_params p = mtmd_context_params_default();
    p.use_gpu = false;
    p.print_timings = false;
    p.n_threads = 2;
    p.warmup = false;
    p.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
    mctx = mtmd_init_from_file(mmproj.c_str(), model, p);
    if (!mctx) throw std::runtime_error("mtmd cannot load " + mmproj);
  }
  ~Llama() {
    mtmd_free(mctx);
    llama_free(lctx);
    llama_model_free(model);
  }
};

// S×S RGB, a smooth pattern with some edges (deterministic).
std::vector<uint8_t> test_image(int s) {
  std::vector<uint8_t> px(static_cast<size_t>(3 * s * s));
  for (int y = 0; y < s; ++y)
    for (int x = 0; x < s; ++x)
      for (int c = 0; c < 3; ++c)
        px[static_cast<size_t>((y * s + x) * 3 + c)] =
            static_cast<uint8_t>((x * 7 + y * 13 + c * 50 + ((x / 8 + y / 8) % 2) * 90) % 256);
  return px;
}

std::vector<double> log_softmax(const float* row, int64_t n) {
  double mx = -1e300, z = 0;
  for (int64_t i = 0; i < n; ++i) mx = std::max(mx, static_cast<double>(row[i]));
  for (int64_t i = 0; i < n; ++i) z += std::exp(static_cast<double>(row[i]) - mx);
  std::vector<double> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) out[static_cast<size_t>(i)] = static_cast<double>(row[i]) - mx - std::log(z);
  return out;
}

struct Case {
  ClipProjector projector;
  std::string arch;  // the text model's
};

// One projector: the pair written, both engines run, the distances printed. False: a bound broke.
bool parity(const std::string& dir, const Case& c) {
  const std::string name = clip_projector_name(c.projector);
  const int64_t width = 64;
  ModelInitSpec ts;
  ts.arch = c.arch;
  ts.n_embd = width;
  ts.n_layer = 2;
  ts.n_head = 4;
  ts.n_ff = 128;
  ts.n_vocab = 512;
  ts.n_ctx = 1024;
  ts.seed = 7;
  ts.init_scale = 0.64;  // as the text peers (peer_session.hpp): activations of a trained model's scale
  ts.sliding_window = c.arch == "gemma3" || c.arch == "muse-glimmer" ? 4 : 0;  // shorter than the image
  ts.swa_period = 2;  // layer 0 local, layer 1 global
  if (c.arch == "muse-glimmer") {  // as peer_parity_test.cpp's MuseGlimmerSlidingWindowAgrees
    ts.rope_base = 100000.0f;
    ts.head_dim = 48;
    ts.logit_scale = 1.5f;
    ts.final_softcap = 3.0f;
  }
  ts.control_tokens = {"<start_of_image>", "<end_of_image>", "<|image_start|>", "<|image_end|>",
                       "<fake_token_around_image>", "<global-img>"};
  // mtmd looks idefics3's "\n\n" up as one token (a real SmolVLM vocabulary has it).
  if (c.projector == ClipProjector::Idefics3) ts.control_tokens.push_back("\n\n");
  const std::string text_path = dir + "/" + name + ".gguf", clip_path = dir + "/" + name + ".mmproj.gguf";
  write_random_model(text_path, ts);

  ClipInitSpec cs;
  cs.projector = c.projector;
  cs.image_size = 64;
  cs.patch_size = c.projector == ClipProjector::Gemma3 ? 4 : 8;  // gemma3: 16² patches pooled by 4
  cs.n_embd = 64;
  cs.n_ff = 160;
  cs.n_layer = 3;
  cs.n_head = 4;
  cs.n_embd_out = width;
  cs.scale_factor = c.projector == ClipProjector::Gemma3 ? 4 : 2;
  cs.use_gelu = true;
  cs.seed = 5;
  // idefics3 as SmolVLM (tiling: 2×2 tiles and the overview); without the key mtmd slices by
  // llava-uhd's pixel limits, which tenx does not (docs/vision.md).
  if (c.projector == ClipProjector::Idefics3) cs.preproc_image_size = 128;
  ModelFile f = make_random_clip(cs);
  // ggml's conv_2d multiplies the patch kernel and the pixels in F16: give both F16 values, so the
  // comparison measures the encoders (the kernel rounded here; pixels p/256 by the normalisation).
  std::vector<float> kernel;
  for (TensorView& t : f.tensors)
    if (t.name == "v.patch_embd.weight") {
      kernel.assign(reinterpret_cast<const float*>(t.data), reinterpret_cast<const float*>(t.data) + t.elements());
      for (float& v : kernel) v = f16_to_f32(f32_to_f16(v));
      t.data = reinterpret_cast<const uint8_t*>(kernel.data());
    }
  f.meta.set("clip.vision.image_mean", GgufValue::f32_array({0.0, 0.0, 0.0}));
  f.meta.set("clip.vision.image_std", GgufValue::f32_array({256.0 / 255, 256.0 / 255, 256.0 / 255}));
  write_gguf(clip_path, f.meta, f.tensors);

  const int S = static_cast<int>(cs.image_size);
  const std::vector<uint8_t> px = test_image(S);
  const std::string prompt = std::string("Look: ") + mtmd_default_marker() + " Q: Which digit is it? A: 7, seven";

  // llama.cpp: mtmd_tokenize, the image chunk encoded, every chunk decoded with logits for each
  // text token after the image.
  Llama l(text_path, clip_path);
  mtmd_bitmap* bmp = mtmd_bitmap_init(static_cast<uint32_t>(S), static_cast<uint32_t>(S), px.data());
  mtmd_input_chunks* chunks = mtmd_input_chunks_init();
  const mtmd_input_text in{prompt.c_str(), prompt.size(), true, true};
  const mtmd_bitmap* bitmaps[] = {bmp};
  if (mtmd_tokenize(l.mctx, chunks, &in, bitmaps, 1) != 0) throw std::runtime_error("mtmd_tokenize failed");
  std::vector<int32_t> peer_ids;  // -1 at image rows
  std::vector<float> peer_rows;
  std::vector<std::vector<double>> peer_lp;  // per text position after the image
  std::vector<int64_t> lp_positions;
  std::vector<std::vector<double>> text_lp;  // the text before the image: the text model alone
  std::vector<int64_t> text_positions;
  llama_pos n_past = 0;
  bool after_image = false;
  bool non_causal = false;
  for (size_t i = 0; i < mtmd_input_chunks_size(chunks); ++i) {
    const mtmd_input_chunk* ch = mtmd_input_chunks_get(chunks, i);
    if (mtmd_input_chunk_get_type(ch) == MTMD_INPUT_CHUNK_TYPE_IMAGE) {
      non_causal = mtmd_decode_use_non_causal(l.mctx, ch);
      const size_t n = mtmd_input_chunk_get_n_tokens(ch);
      if (mtmd_encode_chunk(l.mctx, ch) != 0) throw std::runtime_error("mtmd_encode_chunk failed");
      const float* e = mtmd_get_output_embd(l.mctx);
      peer_rows.insert(peer_rows.end(), e, e + n * static_cast<size_t>(width));
      peer_ids.insert(peer_ids.end(), n, -1);
      if (mtmd_helper_eval_chunk_single(l.mctx, l.lctx, ch, n_past, 0, 512, false, &n_past) != 0)
        throw std::runtime_error("mtmd_helper_eval_chunk_single failed");
      after_image = true;
      continue;
    }
    size_t n = 0;
    const llama_token* toks = mtmd_input_chunk_get_tokens_text(ch, &n);
    llama_batch b = llama_batch_init(static_cast<int32_t>(n), 0, 1);
    for (size_t t = 0; t < n; ++t) {
      b.token[t] = toks[t];
      b.pos[t] = n_past + static_cast<llama_pos>(t);
      b.n_seq_id[t] = 1;
      b.seq_id[t][0] = 0;
      b.logits[t] = true;
      peer_ids.push_back(toks[t]);
    }
    b.n_tokens = static_cast<int32_t>(n);
    if (llama_decode(l.lctx, b) != 0) throw std::runtime_error("llama_decode failed");
    for (size_t t = 0; t < n; ++t) {
      (after_image ? peer_lp : text_lp).push_back(log_softmax(llama_get_logits_ith(l.lctx, static_cast<int32_t>(t)), ts.n_vocab));
      (after_image ? lp_positions : text_positions).push_back(n_past + static_cast<int64_t>(t));
    }
    llama_batch_free(b);
    n_past += static_cast<llama_pos>(n);
  }
  mtmd_input_chunks_free(chunks);
  mtmd_bitmap_free(bmp);

  // tenx: its encoder and splice on the same pixels and text.
  const Model model = Model::load(text_path);
  const Tokenizer tok = Tokenizer::from_metadata(model.file.meta, text_path);
  const ClipModel clip = ClipModel::load(clip_path);
  ExecContext ctx(2);
  const ImagePixels pixels{S, S, 3, 255, std::span<const uint8_t>(px)};
  const ImageRows rows = clip_image_rows(ctx, clip, pixels);
  // The same encoder with llama.cpp's F16 GELU tables (GeluNumerics::ggml_f16_table): what is left
  // of the difference once the tables' rounding is taken out.
  ExecContext ctx_table(2);
  ctx_table.gelu_numerics = GeluNumerics::ggml_f16_table;
  const ImageRows rows_table = clip_image_rows(ctx_table, clip, pixels);
  MultimodalPrompt mm = splice_image_rows(tok, prompt, mtmd_default_marker(), std::span<const ImageRows>(&rows, 1), true,
                                          image_token_id(tok));
  std::vector<int32_t> ids = mm.ids;
  std::vector<const float*> ptrs = mm.row_pointers();
  std::vector<int32_t> ahead = mm.lookahead;
  if (tok.add_bos() && tok.bos_id() >= 0) {  // mtmd_tokenize's add_special
    ids.insert(ids.begin(), tok.bos_id());
    ptrs.insert(ptrs.begin(), nullptr);
    ahead.insert(ahead.begin(), 0);
  }
  bool same_ids = ids.size() == peer_ids.size();
  for (size_t i = 0; same_ids && i < ids.size(); ++i) same_ids = peer_ids[i] == -1 ? ptrs[i] != nullptr : peer_ids[i] == ids[i];
  if (!same_ids || rows.rows.size() != peer_rows.size()) {
    fmt::print("| {} | positions differ: tenx {} ({} image rows), llama.cpp {} ({} rows) |\n", name, ids.size(),
               rows.n_rows(), peer_ids.size(), peer_rows.size() / static_cast<size_t>(width));
    return false;
  }
  auto max_rel = [&](const ImageRows& mine) {
    double diff = 0, scale = 0;
    for (size_t i = 0; i < peer_rows.size(); ++i) {
      diff = std::max(diff, std::abs(static_cast<double>(mine.rows[i]) - peer_rows[i]));
      scale = std::max(scale, std::abs(static_cast<double>(peer_rows[i])));
    }
    return diff / scale;
  };
  const double rel = max_rel(rows), rel_table = max_rel(rows_table);
  // The text model: tenx's own rows (end to end), llama.cpp's rows (the decoder alone), and llama.cpp's
  // rows read causally (what tenx did before image rows could see each other).
  // The same positions fed other image rows (`rows_data`: one row of `width` per image position).
  auto with_rows = [&](const float* rows_data) {
    std::vector<const float*> out = ptrs;
    for (size_t i = 0, r = 0; i < out.size(); ++i)
      if (out[i]) out[i] = rows_data + (r++) * static_cast<size_t>(width);
    return out;
  };
  const std::vector<const float*> peer_ptrs = with_rows(peer_rows.data());
  // tenx's rows made with ggml's GELU tables, in the same places.
  const std::vector<const float*> table_ptrs = with_rows(rows_table.rows.data());
  double text_only = 0;
  auto max_dlp = [&](const std::vector<const float*>& rp, const std::vector<int32_t>& la) {
    Decoder dec(model, 1024);
    const std::span<const float> logits = dec.eval(ctx, ids, 0, true, rp, la);
    auto worst = [&](const std::vector<int64_t>& at, const std::vector<std::vector<double>>& want) {
      double m = 0;
      for (size_t k = 0; k < at.size(); ++k) {
        const std::vector<double> lp = log_softmax(logits.data() + at[k] * model.config.n_vocab, model.config.n_vocab);
        for (size_t v = 0; v < lp.size(); ++v) m = std::max(m, std::abs(lp[v] - want[k][v]));
      }
      return m;
    };
    text_only = worst(text_positions, text_lp);
    return worst(lp_positions, peer_lp);
  };
  const double e2e = max_dlp(ptrs, ahead), dec_only = max_dlp(peer_ptrs, ahead), causal = max_dlp(peer_ptrs, {});
  const double e2e_table = max_dlp(table_ptrs, ahead);
  const bool gelu_table = c.projector != ClipProjector::MuseGlimmer;  // ggml's F16 GELU table (peers.md)
  const double row_bound = gelu_table ? 1e-3 : 1e-4, table_bound = 1e-4;
  // peers.md's F32 bounds: 1e-5, gemma3 1e-3 (llama.cpp's GELU table again); read causally, a
  // gemma3 image must be off by far more.
  const double text_bound = c.arch == "gemma3" ? 1e-3 : 1e-5;
  const bool ok = rel <= row_bound && rel_table <= table_bound && e2e_table <= text_bound && text_only <= text_bound && dec_only <= text_bound &&
                  (!non_causal || causal > 10 * text_bound);
  fmt::print("| {} | {} | {} | {} | {:.2g} (bound {:.0e}) | {:.2g} (bound {:.0e}) | {:.2g} | {:.2g} | {:.2g} | {:.2g} | {:.2g} | {} |\n",
             name, c.arch, rows.n_rows(), non_causal ? "yes" : "no", rel, row_bound, rel_table, table_bound, text_only,
             e2e, e2e_table, dec_only, causal, ok ? "ok" : "FAIL");
  return ok;
}

// Images/s of both encoders on one file at PX×PX, alternated round by round.
int bench(const std::string& text, const std::string& mmproj, int px_side, int rounds) {
  Llama l(text, mmproj);
  const ClipModel clip = ClipModel::load(mmproj);
  const std::vector<uint8_t> px = test_image(px_side);
  ExecContext ctx(2);
  mtmd_bitmap* bmp = mtmd_bitmap_init(static_cast<uint32_t>(px_side), static_cast<uint32_t>(px_side), px.data());
  mtmd_input_chunks* chunks = mtmd_input_chunks_init();
  const std::string prompt = mtmd_default_marker();
  const mtmd_input_text in{prompt.c_str(), prompt.size(), false, true};
  const mtmd_bitmap* bitmaps[] = {bmp};
  if (mtmd_tokenize(l.mctx, chunks, &in, bitmaps, 1) != 0) throw std::runtime_error("mtmd_tokenize failed");
  const mtmd_input_chunk* image = nullptr;
  for (size_t i = 0; i < mtmd_input_chunks_size(chunks); ++i)
    if (mtmd_input_chunk_get_type(mtmd_input_chunks_get(chunks, i)) == MTMD_INPUT_CHUNK_TYPE_IMAGE)
      image = mtmd_input_chunks_get(chunks, i);
  if (!image) throw std::runtime_error("no image chunk");
  const ImagePixels pixels{px_side, px_side, 3, 255, std::span<const uint8_t>(px)};
  auto seconds = [](auto&& f) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  std::vector<double> tenx_s, peer_s;
  clip_image_rows(ctx, clip, pixels);  // warm-up: both
  mtmd_encode_chunk(l.mctx, image);
  for (int r = 0; r < rounds; ++r) {
    tenx_s.push_back(seconds([&] { clip_image_rows(ctx, clip, pixels); }));
    peer_s.push_back(seconds([&] { mtmd_encode_chunk(l.mctx, image); }));
  }
  std::sort(tenx_s.begin(), tenx_s.end());
  std::sort(peer_s.begin(), peer_s.end());
  const ClipGrid grid = clip.grid_for(px_side, px_side);
  fmt::print("| {} px | {} | {:.2f} | {:.2f} | {:.2f} | {:.2f} |\n", px_side, clip.hparams().n_output_tokens(grid),
             1.0 / peer_s[peer_s.size() / 2], 1.0 / tenx_s[tenx_s.size() / 2], 1.0 / peer_s.front(), 1.0 / tenx_s.front());
  mtmd_input_chunks_free(chunks);
  mtmd_bitmap_free(bmp);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  llama_log_set(quiet, nullptr);
  mtmd_helper_log_set(quiet, nullptr);
  llama_backend_init();
  try {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "parity" && argc == 3) {
      std::filesystem::create_directories(argv[2]);
      fmt::print("| projector | text model | image rows | non-causal (mtmd) | rows: max rel diff | same, GELU by ggml's "
                 "F16 tables | max |Δ log p|: text before the image | after it, end to end | same, rows with the tables | "
                 "after it, tenx decoder on mtmd's rows | same, read causally | |\n"
                 "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
      bool ok = true;
      for (const Case& c : {Case{ClipProjector::Mlp, "llama"}, Case{ClipProjector::Idefics3, "llama"},
                            Case{ClipProjector::Gemma3, "gemma3"}, Case{ClipProjector::MuseGlimmer, "muse-glimmer"}})
        ok = parity(argv[2], c) && ok;
      return ok ? 0 : 1;
    }
    if (mode == "bench" && argc == 6) return bench(argv[2], argv[3], std::atoi(argv[4]), std::atoi(argv[5]));
    std::fprintf(stderr, "usage: tenx_mtmd_peer parity DIR | bench TEXT.gguf MMPROJ.gguf PX ROUNDS\n");
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tenx_mtmd_peer: %s\n", e.what());
    return 1;
  }
}
