// tenx serve's images (docs/serve.md, "Images"): a chat request with image_url parts, on a random
// text model and a random mmproj (`tenx model init --mmproj`'s generator), answered as the Decoder
// fed the encoder's rows directly answers it (ids built in this test from llama.cpp's marker
// strings, greedy in float64, log p within 1e-5), batched with text requests; the 400s (no
// projector, bad data: URIs, http(s) URLs, bytes that are no PNG, an image over the context); and
// end to end, `tenx run` image items through `--model NAME=http://...#api=chat` against `tenx serve
// --mmproj` give the records a local run gives.
#include <gtest/gtest.h>
#include <httplib.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <nlohmann/json.hpp>
#include <thread>

#include "eval/runner_fixtures.hpp"
#include "remote/server_process.hpp"
#include "tenx/eval/run/runner.hpp"
#include "tenx/model/clip.hpp"
#include "tenx/model/decoder.hpp"
#include "tenx/model/image_encoder.hpp"
#include "tenx/model/model_init.hpp"
#include "tenx/remote/image_uri.hpp"
#include "tenx/serve/request.hpp"
#include "tenx/serve/server.hpp"
#include "tenx/suites/suite_io.hpp"

// A namespace of its own: the unity build compiles this file with the other serve tests, whose
// helpers (post, start, Running) have the same names.
namespace tenx::serve::image_test {
namespace {

using OJson = nlohmann::ordered_json;
namespace fs = std::filesystem;
using eval::testing::TempDir;

constexpr int64_t kWidth = 32;  // the text model's embedding width = the projector's output

const std::string kTemplate =
    "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

fs::path write_text_model(const fs::path& dir) {
  ModelInitSpec spec;
  spec.n_embd = kWidth;
  spec.n_layer = 2;
  spec.n_head = 4;
  spec.n_ff = 64;
  spec.n_vocab = 300;
  spec.n_ctx = 512;
  spec.seed = 7;
  spec.chat_template = kTemplate;
  spec.control_tokens = {"<|im_start|>", "<|im_end|>", "<start_of_image>", "<end_of_image>",
                         "<fake_token_around_image>", "<global-img>"};
  const fs::path file = dir / "vlm.gguf";
  write_random_model(file.string(), spec);
  return file;
}

ClipInitSpec clip_spec(ClipProjector p) {
  ClipInitSpec c;
  c.projector = p;
  c.image_size = 32;
  c.patch_size = 8;
  c.n_embd = 32;
  c.n_ff = 64;
  c.n_layer = 2;
  c.n_head = 4;
  c.n_embd_out = kWidth;
  c.scale_factor = 2;
  c.seed = 11;
  return c;
}

// An RGB image of w x h pixels, values 0..255 (a PNG keeps them exactly).
std::vector<uint8_t> test_pixels(int w, int h, int seed) {
  std::vector<uint8_t> px(static_cast<size_t>(w * h * 3));
  for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<uint8_t>((i * 37 + static_cast<size_t>(seed) * 101) % 256);
  return px;
}

struct Fixture {
  TempDir dir;
  fs::path model_path;
  std::string mmproj;
  std::optional<Model> model_;
  std::optional<Tokenizer> tok_;
  ImageEncoder encoder;
  const Model& model() const { return *model_; }
  const Tokenizer& tok() const { return *tok_; }
};

std::unique_ptr<Fixture> make_fixture(const ClipInitSpec& spec) {
  auto f = std::make_unique<Fixture>();
  f->model_path = write_text_model(f->dir.path());
  f->mmproj = (f->dir / "vlm.mmproj.gguf").string();  // beside the model: found without --mmproj
  write_random_clip(f->mmproj, spec);
  f->model_ = Model::load(f->model_path.string());
  f->tok_ = Tokenizer::from_metadata(f->model().file.meta, f->model_path.string());
  f->encoder = load_image_encoder(f->model_path.string(), "", f->model());
  return f;
}

struct Running {
  std::unique_ptr<Server> server;
  int port = 0;
};

Running start(const Fixture& f, bool with_images, int parallel = 2, int64_t n_ctx = 256) {
  ServerOptions o;
  o.port = 0;
  o.model_id = "vlm";
  o.max_tokens_limit = 64;
  o.scheduler.parallel = parallel;
  o.scheduler.n_ctx = n_ctx;
  o.scheduler.max_batch = 16;  // several chunks per prompt: image rows cross chunk borders
  o.scheduler.images = with_images ? &f.encoder : nullptr;
  o.chat = std::make_shared<const chat::ModelChat>(*chat::model_chat_of(f.model().file.meta, "vlm"));
  Running r;
  r.server = std::make_unique<Server>(f.model(), f.tok(), o);
  r.port = r.server->start();
  return r;
}

httplib::Result post(int port, const OJson& body) {
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(60, 0);
  return c.Post("/v1/chat/completions", body.dump(), "application/json");
}

OJson image_part(const std::string& url) { return {{"type", "image_url"}, {"image_url", {{"url", url}}}}; }

OJson image_request(const std::string& before, const std::string& url, const std::string& after, int max_tokens = 8) {
  OJson content = OJson::array();
  content.push_back({{"type", "text"}, {"text", before}});
  content.push_back(image_part(url));
  content.push_back({{"type", "text"}, {"text", after}});
  return {{"model", "vlm"},
          {"messages", OJson::array({{{"role", "user"}, {"content", content}}})},
          {"max_tokens", max_tokens},
          {"logprobs", true}};
}

// The oracle: ids and embedding rows built here from the template's text and llama.cpp's marker
// strings (mtmd.cpp), the encoder run directly, then greedy decoding on the Decoder alone with
// log p in float64.
struct Oracle {
  std::vector<int32_t> prompt;
  std::vector<int32_t> reply;
  std::vector<double> logprobs;
  uint64_t image_flops = 0;
};

Oracle oracle(const Fixture& f, const std::string& before, const std::vector<uint8_t>& px, int w, int h,
              const std::string& after, int max_tokens) {
  const ClipModel& clip = *f.encoder.clip;
  const ClipHparams& hp = clip.hparams();
  ExecContext ctx(1);
  const ImagePixels pixels{h, w, 3, 255, std::span<const uint8_t>(px)};
  // The encoder's rows: per tile (idefics3 with tiling) then the overview, or the image alone.
  std::vector<std::vector<float>> parts;
  std::vector<std::string> texts;
  const Counters before_enc = ctx.counters;
  if (clip_tiles_images(hp)) {
    const ClipTiles t = clip_idefics3_tiles(pixels, hp);
    for (int64_t y = 0; y < t.rows; ++y)
      for (int64_t x = 0; x < t.cols; ++x) {
        texts.push_back(std::string(x == 0 && y > 0 ? "\n" : "") + "<fake_token_around_image><row_" +
                        std::to_string(y + 1) + "_col_" + std::to_string(x + 1) + ">");
        parts.push_back(clip.encode_normalized(ctx, t.tiles[static_cast<size_t>(y * t.cols + x)]));
      }
    texts.push_back("\n\n<fake_token_around_image><global-img>");
    parts.push_back(clip.encode_normalized(ctx, t.overview));
  } else {
    texts.push_back(hp.projector == ClipProjector::Gemma3 ? "<start_of_image>" : "");
    parts.push_back(clip.encode(ctx, pixels));
  }
  const std::string end = hp.projector == ClipProjector::Gemma3 ? "<end_of_image>" : "<fake_token_around_image>";
  Oracle o;
  o.image_flops = (ctx.counters - before_enc).total_flops();
  std::vector<const float*> rows;
  std::vector<int32_t> lookahead;  // llama.cpp decodes a gemma3 image's rows non-causally: each sees all
  auto text = [&](const std::string& s) {
    for (int32_t id : f.tok().encode(s, false, true)) o.prompt.push_back(id), rows.push_back(nullptr), lookahead.push_back(0);
  };
  text("<|im_start|>user\n" + before);
  for (size_t i = 0; i < parts.size(); ++i) {
    text(texts[i]);
    const size_t n = parts[i].size() / kWidth;
    for (size_t r = 0; r < n; ++r) {
      o.prompt.push_back(image_token_id(f.tok()));
      rows.push_back(parts[i].data() + r * kWidth);
      lookahead.push_back(hp.projector == ClipProjector::Gemma3 ? static_cast<int32_t>(n - 1 - r) : 0);
    }
  }
  text(end + after + "<|im_end|>\n<|im_start|>assistant\n");
  Decoder dec(f.model(), 512, 1, 64);
  std::span<const float> logits = dec.eval(ctx, o.prompt, 0, false, rows, lookahead);
  const auto V = static_cast<size_t>(f.model().config.n_vocab);
  for (int k = 0; k < max_tokens; ++k) {
    const float* row = logits.data() + logits.size() - V;
    size_t best = 0;
    for (size_t v = 1; v < V; ++v)
      if (row[v] > row[best]) best = v;  // the lowest id on ties
    const auto id = static_cast<int32_t>(best);
    if (f.tok().is_eog(id)) break;
    double mx = row[best], sum = 0;
    for (size_t v = 0; v < V; ++v) sum += std::exp(static_cast<double>(row[v]) - mx);
    o.logprobs.push_back(static_cast<double>(row[best]) - mx - std::log(sum));
    o.reply.push_back(id);
    const std::vector<int32_t> one = {id};
    logits = dec.eval(ctx, one, 0, false);
  }
  return o;
}

void expect_matches(const Fixture& f, const OJson& body, const Oracle& o, const std::string& what) {
  SCOPED_TRACE(what);
  const OJson& choice = body["choices"][0];
  std::string expected;
  for (int32_t id : o.reply) expected += f.tok().token_to_piece(id, false);
  // A random model's bytes are seldom UTF-8: the JSON text has U+FFFD for them, the tokens' `bytes` the bytes.
  EXPECT_EQ(choice["message"]["content"].dump(), OJson(expected).dump(-1, ' ', false, OJson::error_handler_t::replace));
  const OJson& lp = choice["logprobs"]["content"];
  ASSERT_EQ(lp.size(), o.logprobs.size());
  std::string bytes;
  for (size_t k = 0; k < lp.size(); ++k) {
    EXPECT_NEAR(lp[k]["logprob"].get<double>(), o.logprobs[k], 1e-5) << k;
    for (const OJson& b : lp[k]["bytes"]) bytes.push_back(static_cast<char>(b.get<int>()));
  }
  EXPECT_EQ(bytes, expected);
  EXPECT_EQ(body["usage"]["prompt_tokens"], o.prompt.size());
  EXPECT_EQ(body["usage"]["completion_tokens"], o.reply.size());
  EXPECT_EQ(body["usage"]["image_flops"], o.image_flops);
  EXPECT_GT(body["usage"]["flops"].get<uint64_t>(), o.image_flops);  // the text model's share on top
}

TEST(ServeImage, TheReplyIsTheDecoderFedTheEncoderRowsAtTheTemplatesMarker) {
  ClipInitSpec tiling = clip_spec(ClipProjector::Idefics3);
  tiling.preproc_image_size = 64;  // SmolVLM-style tiles: 2 x 2 and the overview for a 40 x 24 image
  for (const ClipInitSpec& spec : {clip_spec(ClipProjector::Gemma3), tiling}) {
    SCOPED_TRACE(spec.preproc_image_size ? "idefics3 tiled" : "gemma3");
    const auto f = make_fixture(spec);
    const Running s = start(*f, true);
    const std::vector<uint8_t> px = test_pixels(40, 24, 1);
    const auto res = post(s.port, image_request("Look: ", remote::png_data_uri(40, 24, 3, 255, px), " What is it?"));
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    const Oracle o = oracle(*f, "Look: ", px, 40, 24, " What is it?", 8);
    EXPECT_EQ(o.image_flops, analytic_clip_image_input(*f->encoder.clip, 40, 24).total_flops());
    expect_matches(*f, OJson::parse(res->body), o, "alone");
  }
}

// Image requests and text requests at once on 2 slots, prompts in chunks of 16: each answer is
// still the oracle's (image rows go in as embedding rows beside other sequences' tokens).
TEST(ServeImage, ImageRequestsBatchWithTextRequests) {
  const auto f = make_fixture(clip_spec(ClipProjector::Gemma3));
  const Running s = start(*f, true, 2);
  constexpr int kRequests = 6;
  std::vector<OJson> bodies(kRequests);
  std::vector<std::vector<uint8_t>> px(kRequests);
  std::vector<std::thread> clients;
  for (int i = 0; i < kRequests; ++i) {
    px[static_cast<size_t>(i)] = test_pixels(16 + 4 * i, 16, i);
    clients.emplace_back([&, i] {
      OJson req;
      if (i % 2 == 0) {
        req = image_request("Picture " + std::to_string(i) + ": ",
                            remote::png_data_uri(16 + 4 * i, 16, 3, 255, px[static_cast<size_t>(i)]), " Describe it.");
      } else {
        req = {{"model", "vlm"},
               {"messages", OJson::array({{{"role", "user"}, {"content", "Tell me about number " + std::to_string(i)}}})},
               {"max_tokens", 8},
               {"logprobs", true}};
      }
      const auto res = post(s.port, req);
      if (res && res->status == 200) bodies[static_cast<size_t>(i)] = OJson::parse(res->body);
    });
  }
  for (auto& c : clients) c.join();
  for (int i = 0; i < kRequests; i += 2) {
    ASSERT_FALSE(bodies[static_cast<size_t>(i)].is_null()) << i;
    const Oracle o = oracle(*f, "Picture " + std::to_string(i) + ": ", px[static_cast<size_t>(i)], 16 + 4 * i, 16,
                            " Describe it.", 8);
    expect_matches(*f, bodies[static_cast<size_t>(i)], o, "request " + std::to_string(i));
  }
  for (int i = 1; i < kRequests; i += 2) {
    const OJson& b = bodies[static_cast<size_t>(i)];
    ASSERT_FALSE(b.is_null()) << i;
    EXPECT_FALSE(b["usage"].contains("image_flops")) << "a text request has no image share";
  }
  const SchedulerStats st = s.server->scheduler().stats();
  EXPECT_EQ(st.counted_flops, st.attributed_flops) << "every counted FLOP, images included, is some request's";
  EXPECT_GE(st.max_sequences_in_batch, 2u);
}

// The parser: where each image goes in the text, and the data: URI's bytes.
TEST(ServeImage, ImagePartsBecomeMediaMarkersAndBytes) {
  const std::string uri = remote::png_data_uri(2, 1, 1, 255, std::vector<uint8_t>{0, 255});
  const OJson body = {
      {"model", "m"},
      {"messages",
       OJson::array({{{"role", "user"},
                      {"content", OJson::array({{{"type", "text"}, {"text", "a"}}, {{"type", "text"}, {"text", "b"}},
                                                image_part(uri), {{"type", "text"}, {"text", "c"}}, image_part(uri)})}}})}};
  const ChatRequest r = parse_chat_request(body.dump());
  EXPECT_EQ(r.messages[0]["content"], "a\nb<__media__>c<__media__>");
  ASSERT_EQ(r.images.size(), 2u);
  EXPECT_EQ(r.images[0].param, "messages[0].content[2]");
  EXPECT_EQ(r.images[1].param, "messages[0].content[4]");
  EXPECT_EQ(r.images[0].bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  const suites::Image im = decode_chat_image(r.images[0]);
  EXPECT_EQ(im.w, 2);
  EXPECT_EQ(im.h, 1);
  EXPECT_EQ(im.pixels, (std::vector<uint8_t>{0, 255}));
  // base64 without its padding decodes the same
  std::string unpadded = uri;
  while (unpadded.back() == '=') unpadded.pop_back();
  OJson b2 = body;
  b2["messages"][0]["content"][2]["image_url"]["url"] = unpadded;
  EXPECT_EQ(parse_chat_request(b2.dump()).images[0].bytes, r.images[0].bytes);
}

void expect_400(const httplib::Result& res, const std::string& code, const std::string& param,
                const std::string& words) {
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400) << res->body;
  const OJson e = OJson::parse(res->body)["error"];
  EXPECT_EQ(e["code"], code) << res->body;
  EXPECT_EQ(e["param"], param) << res->body;
  EXPECT_NE(e["message"].get<std::string>().find(words), std::string::npos) << res->body;
  EXPECT_EQ(e["type"], "invalid_request_error");
}

TEST(ServeImage, ErrorsNameWhatIsWrong) {
  const auto f = make_fixture(clip_spec(ClipProjector::Gemma3));
  const std::string good = remote::png_data_uri(8, 8, 3, 255, test_pixels(8, 8, 3));
  const std::string at = "messages[0].content[1]";
  {
    const Running text_only = start(*f, false);
    expect_400(post(text_only.port, image_request("x", good, "y")), "no_image_projector", at, "no image projector");
  }
  const Running s = start(*f, true, 1, 20);  // 20 positions: the text fits, with an image's 4 rows and markers not
  expect_400(post(s.port, image_request("x", "https://example.com/cat.png", "y")), "invalid_field", at + ".image_url.url",
             "not fetched");
  expect_400(post(s.port, image_request("x", "http://127.0.0.1/cat.png", "y")), "invalid_field", at + ".image_url.url",
             "not fetched");
  expect_400(post(s.port, image_request("x", "file:///etc/passwd", "y")), "invalid_field", at + ".image_url.url",
             "data: URI");
  expect_400(post(s.port, image_request("x", "data:image/jpeg;base64,/9j/4AAQ", "y")), "invalid_field",
             at + ".image_url.url", "image/jpeg");
  expect_400(post(s.port, image_request("x", "data:image/png,abc", "y")), "invalid_field", at + ".image_url.url",
             "not base64");
  expect_400(post(s.port, image_request("x", "data:image/png;base64,iVBO*w0K", "y")), "invalid_field",
             at + ".image_url.url", "offset 4");
  expect_400(post(s.port, image_request("x", "data:image/png;base64,", "y")), "invalid_field", at + ".image_url.url",
             "no bytes");
  expect_400(post(s.port, image_request("x", "data:image/png;base64," + remote::base64("not a png at all"), "y")),
             "invalid_image", at, "not a PNG");
  // A PNG cut short: its signature, then nothing stb can read.
  expect_400(post(s.port, image_request("x", "data:image/png;base64," + remote::base64(std::string("\x89PNG\r\n\x1a\n", 8) + "xx"), "y")),
             "invalid_image", at, "cannot be decoded");
  OJson detail = image_request("x", good, "y");
  detail["messages"][0]["content"][1]["image_url"]["detail"] = "high";
  expect_400(post(s.port, detail), "invalid_field", at + ".image_url.detail", "auto");
  // The image's positions count against the slot's context.
  const auto long_res = post(s.port, image_request("x", good, "y"));
  ASSERT_TRUE(long_res);
  EXPECT_EQ(long_res->status, 400) << long_res->body;
  EXPECT_EQ(OJson::parse(long_res->body)["error"]["code"], "context_length_exceeded") << long_res->body;
  // The same text without the image fits.
  OJson text = {{"model", "vlm"}, {"messages", OJson::array({{{"role", "user"}, {"content", "xy"}}})}, {"max_tokens", 1}};
  const auto ok = post(s.port, text);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
}

// End to end: `tenx run` over generate items with images, one model local and the same files behind
// `tenx serve` (its mmproj found beside the model), under --protocol chat: the same records.
TEST(ServeImage, TenxRunThroughTenxServeGivesTheLocalImageRecords) {
  if (eval::testing::sanitizer_build()) GTEST_SKIP() << "slow under sanitizers";
  TempDir dir;
  const fs::path model = write_text_model(dir.path());
  write_random_clip((dir / "vlm.mmproj.gguf").string(), clip_spec(ClipProjector::Gemma3));
  // Generate items with images: the multimodal suite's digits (max 16) and scenes, put as
  // open questions (the chat API scores no choices).
  std::vector<std::string> lines;
  const suites::Suite mm = suites::load_suite(std::string(TENX_SOURCE_DIR) + "/data/suites/multimodal");
  int digits = 0, scenes = 0;
  for (const suites::Item& item : mm.split("test")) {
    if (!item.image) continue;
    const bool digit = item.task.rfind("digit", 0) == 0;
    if ((digit ? digits : scenes) >= 3) continue;
    (digit ? digits : scenes)++;
    const suites::ChoiceBody& c = item.choice();
    OJson line = {{"id", item.id}, {"task", "g"}, {"type", "generate"}, {"prompt", c.context},
                  {"target", c.choices[static_cast<size_t>(c.gold)]}, {"stop", OJson::array({"\n"})}, {"max_tokens", 6}};
    line["image"] = {{"h", item.image->h}, {"w", item.image->w}, {"c", item.image->c}, {"max", item.image->max},
                     {"pixels", item.image->pixels}};
    lines.push_back(line.dump());
  }
  ASSERT_EQ(digits + scenes, 6);
  const fs::path suite = eval::testing::write_suite(dir, "imagegen", {{"g", "generate"}}, lines);

  remote::testing::ServerProcess server({TENX_BINARY, "serve", model.string(), "--port", "0", "--model-id", "m",
                                         "--parallel", "2"},
                                        60);
  ASSERT_TRUE(server.ok()) << "tenx serve did not start: " << server.error();
  eval::RunOptions o;
  o.models = {{"local", model.string()}, {"remote", server.base_url() + "#model=m&api=chat"}};
  o.suites = {suite.string()};
  o.protocol = "chat";
  o.out_dir = dir / "run";
  o.quiet = true;
  o.remote.concurrency = 2;
  o.remote.max_retries = 1;
  const eval::RunResult run = eval::run_evaluation(o);
  std::map<std::string, const eval::ItemRecord*> local;
  for (const eval::ItemRecord& r : run.records)
    if (r.model == "local") local[r.item] = &r;
  int compared = 0;
  for (const eval::ItemRecord& r : run.records) {
    if (r.model != "remote") continue;
    SCOPED_TRACE(r.item);
    const eval::ItemRecord& l = *local.at(r.item);
    ASSERT_TRUE(l.applicable && l.error.empty()) << l.error;
    ASSERT_TRUE(r.applicable) << "the served model sees the image";
    EXPECT_EQ(r.error, l.error);
    EXPECT_EQ(r.output, l.output);
    EXPECT_EQ(r.correct, l.correct);
    EXPECT_EQ(r.stop_reason, l.stop_reason);
    EXPECT_EQ(r.tokens_out, l.tokens_out);
    EXPECT_EQ(r.tokens_in, l.tokens_in) << "the image's positions counted alike";
    EXPECT_GT(l.image_flops, 0u);
    EXPECT_EQ(r.image_flops, l.image_flops);
    EXPECT_EQ(r.flops, l.flops);
    ++compared;
  }
  EXPECT_EQ(compared, 6);
}

}  // namespace
}  // namespace tenx::serve::image_test
