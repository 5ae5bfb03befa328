#pragma once
// Training data from task suites: every item becomes a prompt and an answer
// text (what an evaluator shows the model, and what it should write), then a
// token sequence [bos, prompt..., answer..., eos]. Batches pack several such
// documents into each row (attention stays within a document) and mix the
// suites in the recipe's proportions. A batch is a pure function of (seed, step),
// so a resumed run sees exactly the batches an uninterrupted one would.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tenx/model/tokenizer.hpp"
#include "tenx/model/vision.hpp"
#include "tenx/ops/context.hpp"
#include "tenx/suites/suite.hpp"
#include "tenx/train/model.hpp"
#include "tenx/train/recipe.hpp"

namespace tenx::train {

struct TextExample {
  std::string prompt;
  std::string answer;
  std::shared_ptr<const suites::Image> image;  // the item's image (its marker is in the prompt)
  std::shared_ptr<const suites::Item> item;    // dev examples only: the item itself (dev_eval.hpp scores it)
};

// choice: context / the gold choice; generate: prompt / " " + first target + first
// stop string (the model learns to stop); agent: the tool prompt / the gold
// trajectory (meta.trajectory). The image marker stays in the text; the image is
// kept: a vision recipe expands the marker into the image's patches, a text-only
// one trains on the marker as a token of its own.
TextExample render_item(const suites::Item& item);

struct SuiteTexts {
  std::string name;
  double weight = 1;
  std::vector<TextExample> train, dev;  // dev: held out of the recipe's split
  std::vector<suites::TaskInfo> tasks;  // the suite's tasks (chance, references) from suite.json
};

// Loads the recipe's suites (names resolved under suites_dir when not folders),
// keeps the requested tasks and at most max_items, and holds out a seeded
// dev_fraction of the items. Throws tenx::Error for a missing suite, split or task.
std::vector<SuiteTexts> load_suite_texts(const Recipe& recipe, const std::filesystem::path& suites_dir = {});

struct Document {
  std::vector<int32_t> ids;  // bos, prompt, answer, eos
  int64_t n_prompt = 0;      // bos + prompt tokens: ids[n_prompt..] are the answer
  // Image (vision recipes): per id its patch index (-1 = text; empty = no image), the
  // patches' features [n_patches, patch_dim] and grid positions (image_to_patches).
  std::vector<int32_t> patch;
  std::vector<float> features;
  std::vector<int32_t> patch_position;
  int64_t patch_dim = 0;
};

struct SuiteDocs {
  std::string name;
  double weight = 1;
  std::vector<Document> train, dev;
};

// Tokenizes every example (in parallel; the result does not depend on threads).
// With `vision`, an example's image marker becomes the image's patch positions
// (expand_image_markers, as at inference); an image that does not fit the grid
// or a prompt without exactly one marker is a tenx::Error naming the suite.
std::vector<SuiteDocs> tokenize_suites(ExecContext& ctx, const std::vector<SuiteTexts>& texts, const Tokenizer& tok,
                                       const VisionConfig* vision = nullptr);

class DataMixture {
 public:
  DataMixture(std::vector<SuiteDocs> suites, LossMask mask, uint64_t seed, int32_t pad_id);

  // The training batch of `step`: B rows of L tokens. Returns the tokens that are
  // not padding.
  int64_t fill(Batch& batch, int64_t step, int64_t B, int64_t L) const;
  // Dev batch `index`: the dev documents packed in a fixed order.
  int64_t fill_dev(Batch& batch, int64_t index, int64_t B, int64_t L) const;

  size_t n_train() const;
  size_t n_dev() const { return dev_order_.size(); }
  const std::vector<SuiteDocs>& suites() const { return suites_; }

 private:
  // Places doc (or its last L+1 tokens when longer than a row) at `filled`; returns positions used.
  int64_t place(Batch& b, int64_t row, int64_t filled, const Document& doc) const;
  void pad(Batch& b, int64_t row, int64_t filled) const;

  std::vector<SuiteDocs> suites_;
  LossMask mask_;
  uint64_t seed_;
  int32_t pad_id_;
  std::vector<std::pair<size_t, size_t>> dev_order_;  // (suite, doc), round-robin over suites
};

}  // namespace tenx::train
