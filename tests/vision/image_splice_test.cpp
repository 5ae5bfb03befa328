// splice_image_rows (vision.hpp): the ids and embedding rows of a text with two images, built here
// piece by piece from the tokenizer, and the refusal of a text whose markers and images disagree.
#include <gtest/gtest.h>

#include "tenx/model/model_init.hpp"
#include "tenx/model/tokenizer.hpp"
#include "tenx/model/vision.hpp"
#include "tenx/util/error.hpp"

namespace tenx {
namespace {

Tokenizer splice_tokenizer() {
  ModelInitSpec spec;
  spec.n_embd = 16;
  spec.n_layer = 1;
  spec.n_head = 2;
  spec.n_ff = 32;
  spec.n_vocab = 300;
  spec.control_tokens = {"<start_of_image>", "<end_of_image>"};
  const ModelFile f = make_random_model(spec);
  return Tokenizer::from_metadata(f.meta, "splice");
}

TEST(ImageSplice, TwoImagesWithMarkerTextInPlace) {
  const Tokenizer tok = splice_tokenizer();
  const int64_t d = 2;
  ImageRows a, b;
  a.pieces = {{"<start_of_image>", 2}, {"<end_of_image>", 0}};
  a.rows = {1, 2, 3, 4};
  b.pieces = {{"", 1}, {"x<start_of_image>", 2}};  // rows, text, rows
  b.rows = {5, 6, 7, 8, 9, 10};
  const std::vector<ImageRows> images = {a, b};
  const MultimodalPrompt p = splice_image_rows(tok, "Look: <M> and <M>!", "<M>", images, false, 7);

  std::vector<int32_t> want_ids;
  std::vector<int64_t> want_rows;
  auto text = [&](const std::string& s, bool special) {
    for (int32_t id : tok.encode(s, false, special)) {
      want_ids.push_back(id);
      want_rows.push_back(-1);
    }
  };
  auto image = [&](int64_t first, int64_t n) {
    for (int64_t r = 0; r < n; ++r) {
      want_ids.push_back(7);
      want_rows.push_back(first + r);
    }
  };
  text("Look: ", false);
  text("<start_of_image>", true);
  image(0, 2);
  text("<end_of_image>", true);
  text(" and ", false);
  image(2, 1);
  text("x<start_of_image>", true);
  image(3, 2);
  text("!", false);
  ASSERT_EQ(tok.encode("<start_of_image>", false, true).size(), 1u);  // parsed as the control token
  EXPECT_EQ(p.ids, want_ids);
  EXPECT_EQ(p.embedding_row, want_rows);
  EXPECT_EQ(p.n_image_positions, 5);
  EXPECT_EQ(p.embeddings, (std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  const std::vector<const float*> rows = p.row_pointers();
  for (size_t i = 0; i < rows.size(); ++i)
    if (want_rows[i] >= 0) EXPECT_EQ(rows[i], p.embeddings.data() + want_rows[i] * d) << i;
    else EXPECT_EQ(rows[i], nullptr) << i;
}

TEST(ImageSplice, MarkersAndImagesMustAgree) {
  const Tokenizer tok = splice_tokenizer();
  ImageRows a;
  a.pieces = {{"", 1}};
  a.rows = {1, 2};
  const std::vector<ImageRows> one = {a};
  EXPECT_THROW(splice_image_rows(tok, "no marker", "<M>", one, false, 0), Error);
  EXPECT_THROW(splice_image_rows(tok, "<M><M>", "<M>", one, false, 0), Error);
}

}  // namespace
}  // namespace tenx
