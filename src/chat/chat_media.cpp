// Images in a rendered conversation (chat_media.hpp): the steps of `tenx run`'s chat protocol for an
// image item (src/eval/run/item_runner.cpp) and of `tenx serve`'s image_url parts (src/serve/chat_prompt.cpp).
#include "tenx/chat/chat_media.hpp"

#include <fmt/format.h>

#include "tenx/chat/jinja.hpp"
#include "tenx/util/error.hpp"

namespace tenx::chat {

namespace {
size_t count_media(std::string_view text) {
  size_t n = 0;
  for (size_t at = text.find(kMediaMarker); at != std::string_view::npos; at = text.find(kMediaMarker, at + kMediaMarker.size())) ++n;
  return n;
}
}  // namespace

std::string render_chat_with_media(const std::function<std::string(const nlohmann::ordered_json&)>& render,
                                   const nlohmann::ordered_json& messages, size_t n_media) {
  std::string rendered;
  try {
    rendered = render(messages);
  } catch (const jinja::RenderError&) {
    // a template that takes typed parts only may refuse a string content: try those below
  }
  if (count_media(rendered) != n_media) {
    nlohmann::ordered_json typed = messages;
    for (auto& m : typed)
      if (m.is_object() && m.contains("content") && m["content"].is_string() &&
          m["content"].get_ref<const std::string&>().find(kMediaMarker) != std::string::npos)
        m["content"] = nlohmann::ordered_json::array({{{"type", "text"}, {"text", m["content"]}}});
    rendered = render(typed);
  }
  const size_t found = count_media(rendered);
  if (found != n_media)
    throw Error("template", found < n_media ? fmt::format("the chat template dropped the text around the image(s): "
                                                          "{} of {} have no place in the prompt", n_media - found, n_media)
                                            : fmt::format("the conversation's text holds {} more '{}' than it has images",
                                                          found - n_media, kMediaMarker));
  return rendered;
}

MultimodalPrompt chat_media_prompt(const Tokenizer& tok, const std::string& rendered, std::span<const ImageRows> images) {
  MultimodalPrompt mm = splice_image_rows(tok, rendered, kMediaMarker, images, true, image_token_id(tok));
  // As chat_prompt_ids: the vocabulary's bos unless the template already wrote it.
  const int32_t bos = tok.bos_id();
  if (tok.add_bos() && bos >= 0 && (mm.ids.empty() || mm.ids.front() != bos)) {
    mm.ids.insert(mm.ids.begin(), bos);
    mm.embedding_row.insert(mm.embedding_row.begin(), -1);
    mm.lookahead.insert(mm.lookahead.begin(), 0);
  }
  return mm;
}

}  // namespace tenx::chat
