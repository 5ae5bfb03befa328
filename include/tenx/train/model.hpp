#pragma once
// The trainer's llama decoder: a flat forward that keeps every activation the
// backward needs, and a backward that is its literal mirror (llm.c style). Same
// architecture and numerics as the core's Decoder (RMSNorm, RoPE "normal" pairs,
// grouped-query attention, SwiGLU, untied output), so an exported model runs
// identically there; the tests check it.
#include <cstdint>
#include <vector>

#include "tenx/model/config.hpp"
#include "tenx/ops/context.hpp"
#include "tenx/train/params.hpp"

namespace tenx::train {

// B rows of L tokens; a row holds one or more packed documents. Per token:
// its id, the id to predict, its loss weight (0 = not trained on), its position
// inside its document and where (row-relative) its document starts.
struct Batch {
  int64_t B = 0, L = 0;
  std::vector<int32_t> tokens, targets, pos, doc_start;
  std::vector<float> weight;
  // Optional [B·L, n_vocab] logits of a teacher on the same tokens (distillation).
  std::vector<float> teacher_logits;
  // Image patches (vision recipes). A token with patch_row[t] >= 0 takes as input the
  // projector's row for patch_features[patch_row[t]] (W·f + b + pos_embd[patch_position])
  // instead of its token embedding. Empty patch_features: every token is text.
  std::vector<int32_t> patch_row;       // [B·L], -1 = text
  std::vector<float> patch_features;    // [n_patches, patch_dim]
  std::vector<int32_t> patch_position;  // [n_patches]: grid index r·max_grid + c
  int64_t patch_dim = 0;
  int64_t n_patches() const { return static_cast<int64_t>(patch_position.size()); }

  void resize(int64_t rows, int64_t len);
  int64_t n_tokens() const { return B * L; }
  double weight_sum() const;
};

// How the per-token loss is made: (1 - alpha)·CE(labels) + alpha·τ²·KL(teacher ‖ student),
// alpha = 0 without a teacher. The batch loss is the weight-averaged token loss.
struct LossOptions {
  float alpha = 0.0f;
  float temperature = 1.0f;
};

// Every activation of one forward, kept for the backward, plus the backward's
// scratch. Per layer l, arrays hold n_layer slices of the sizes noted.
template <class S>
struct Activations {
  int64_t B = 0, L = 0;
  std::vector<S> resid;       // (n_layer + 1) × [T, C]: input of each layer, then the final stream
  std::vector<S> ln1, rstd1;  // [T, C], [T]
  std::vector<S> q, k, v;     // [T, qd], [T, kvd], [T, kvd] (q, k after RoPE)
  std::vector<S> probs;       // [B, n_head, L, L]
  std::vector<S> att;         // [T, qd]
  std::vector<S> mid;         // [T, C]: stream after the attention residual
  std::vector<S> ln2, rstd2;  // [T, C], [T]
  std::vector<S> gate, up, act;  // [T, F]
  std::vector<S> lnf, rstdf;  // [T, C], [T]
  std::vector<S> logits;      // [T, V]
  std::vector<S> losses, ce_losses, kl_losses, dloss;  // [T]
  std::vector<S> patches, vis, dvis;  // image patches: features, projected rows, their gradient
  // Backward scratch.
  std::vector<S> dresid, dln, dq, dk, dv, datt, dgate, dup, dact, dlogits;

  void resize(const ModelConfig& config, int64_t B, int64_t L);
  uint64_t bytes() const;
};

// Runs the model over the batch and returns the mean loss over weighted tokens
// (0 when no token has weight). Fills acts.logits and the per-token losses.
template <class S>
double model_forward(ExecContext& ctx, const ModelConfig& config, const ParamViews<S>& params, const Batch& batch,
                     Activations<S>& acts, const LossOptions& loss = {});

// The gradient of that mean loss, ACCUMULATED into `grads` (zero it first).
// Needs the activations of the model_forward call on the same batch.
template <class S>
void model_backward(ExecContext& ctx, const ModelConfig& config, const ParamViews<S>& params,
                    const ParamViews<S>& grads, const Batch& batch, Activations<S>& acts,
                    const LossOptions& loss = {});

// A ModelConfig for the trainer's llama: head_dim = n_rot = dim / heads.
ModelConfig llama_config(int64_t dim, int64_t n_layer, int64_t n_head, int64_t n_head_kv, int64_t n_ff,
                         int64_t n_vocab, int64_t n_ctx);

}  // namespace tenx::train
