// tenx inspect FILE.mmproj.gguf: what the encoder is and what one image costs through it.
#include "inspect_mmproj.hpp"

#include <fmt/format.h>

#include <map>

#include "common.hpp"
#include "tenx/model/clip.hpp"

namespace tenx::cli {

bool inspect_if_mmproj(const std::string& path, bool json, bool all_keys) {
  if (!is_gguf(path)) return false;
  ModelFile file = load_gguf(path);
  const auto arch = file.meta.get_string("general.architecture", path);
  if (arch != "clip") return false;
  const ClipModel m = ClipModel::from_file(std::move(file));
  const ClipHparams& h = m.hparams();
  const ClipGrid grid = h.default_grid();
  const Counters per_image = analytic_clip_image(m, grid);
  std::map<std::string, std::pair<int64_t, uint64_t>> by_type;  // type -> (elements, bytes)
  for (const auto& t : m.file().tensors) {
    auto& e = by_type[std::string(dtype_name(t.type))];
    e.first += t.elements();
    e.second += t.nbytes;
  }
  const bool muse = h.projector == ClipProjector::MuseGlimmer;
  const char* act = muse ? "gelu (erf)" : h.activation == ClipActivation::Gelu ? "gelu (tanh)" : "quick gelu";
  if (json) {
    nlohmann::ordered_json j;
    j["model"] = path;
    j["architecture"] = "clip";
    j["projector"] = clip_projector_name(h.projector);
    j["config"] = {{"image_size", h.image_size}, {"patch_size", h.patch_size}, {"n_embd", h.n_embd},
                   {"n_ff", h.n_ff}, {"n_layer", h.n_layer}, {"n_layer_run", h.n_layer_run()}, {"n_head", h.n_head},
                   {"eps", h.eps}, {"activation", act}, {"pre_ln", h.pre_ln}, {"post_ln", h.post_ln},
                   {"scale_factor", h.scale_factor}, {"n_embd_out", h.n_embd_out},
                   {"image_mean", h.image_mean}, {"image_std", h.image_std}};
    j["grid"] = {{"w", grid.w}, {"h", grid.h}};
    j["n_output_tokens"] = h.n_output_tokens(grid);
    j["n_params"] = m.n_params();
    j["weight_bytes"] = m.weight_bytes();
    nlohmann::ordered_json bt = nlohmann::ordered_json::object();
    for (const auto& [k, v] : by_type) bt[k] = {{"elements", v.first}, {"bytes", v.second}};
    j["weights_by_type"] = bt;
    j["flops_per_image"] = per_image.total_flops();
    j["flops_per_image_detail"] = counters_json(per_image)["prefill"];
    j["n_tensors"] = m.file().tensors.size();
    fmt::print("{}\n", j.dump(2));
    return true;
  }
  fmt::print("model          {}\n", path);
  if (auto name = m.file().meta.find("general.name"); name && name->type == GgufType::STRING)
    fmt::print("name           {}\n", printable(name->s));
  fmt::print("architecture   clip (vision encoder, llama.cpp mmproj), projector {}\n", clip_projector_name(h.projector));
  fmt::print("image          {} px{}, patches of {} px: {}x{} = {} patches -> {} tokens of {}\n", h.image_size,
             muse ? " (default; muse-glimmer runs at each image's own grid)" : "", h.patch_size, grid.w, grid.h,
             grid.n(), h.n_output_tokens(grid), h.n_embd_out);
  fmt::print("vit            embd {}, layers {} (runs {}), heads {} (head size {}), ffn {} ({}), eps {}{}{}\n", h.n_embd,
             h.n_layer, h.n_layer_run(), h.n_head, h.head_dim(), h.n_ff, act, h.eps, h.pre_ln ? ", pre-LN" : "",
             h.post_ln ? ", post-LN" : "");
  if (muse)
    fmt::print("               2-D RoPE (base {}), {}x{} position table, windows of {}x{} patches (every 4th and the last "
               "block global)\n", h.rope_theta, h.pos_side, h.pos_side, h.pos_side, h.pos_side);
  fmt::print("normalise      mean {:.4f} {:.4f} {:.4f}, std {:.4f} {:.4f} {:.4f}\n", h.image_mean[0], h.image_mean[1],
             h.image_mean[2], h.image_std[0], h.image_std[1], h.image_std[2]);
  fmt::print("parameters     {} ({})\n", m.n_params(), human_count(static_cast<double>(m.n_params())));
  fmt::print("size           {} in {} tensors\n", human_bytes(static_cast<double>(m.weight_bytes())),
             m.file().tensors.size());
  for (const auto& [k, v] : by_type)
    fmt::print("  {:<12} {:>14} elements  {:>12}\n", k, v.first, human_bytes(static_cast<double>(v.second)));
  fmt::print("per image      {} FLOPs (matmul {}, attention {}, other {}); reads {} of weights, {} of K/V\n",
             human_count(static_cast<double>(per_image.total_flops())),
             human_count(static_cast<double>(per_image.class_flops(OpClass::Matmul))),
             human_count(static_cast<double>(per_image.class_flops(OpClass::Attention))),
             human_count(static_cast<double>(per_image.class_flops(OpClass::Other))),
             human_bytes(static_cast<double>(per_image.total_weight_bytes())),
             human_bytes(static_cast<double>(per_image.total_kv_bytes_read())));
  if (all_keys) {
    fmt::print("\nmetadata ({} keys):\n", m.file().meta.size());
    for (const auto& [k, v] : m.file().meta.entries())
      fmt::print("  {:<44} {}\n", k, v.type == GgufType::STRING ? printable(v.s) : v.type == GgufType::ARRAY
                                          ? fmt::format("[{} x {}]", v.array_size(), gguf_type_name(v.array_type))
                                          : v.is_float() ? fmt::format("{}", v.f) : fmt::format("{}", v.i));
  }
  return true;
}

}  // namespace tenx::cli
