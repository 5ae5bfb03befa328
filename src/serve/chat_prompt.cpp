// chat_prompt (chat_prompt.hpp): the steps tenx run's chat protocol takes for an image item
// (chat::render_chat_with_media, chat::chat_media_prompt; src/eval/run/item_runner.cpp), on a
// client's conversation.
#include "chat_prompt.hpp"

#include <fmt/format.h>

#include "tenx/chat/jinja.hpp"
#include "tenx/util/error.hpp"

namespace tenx::serve {

ChatPrompt chat_prompt(const chat::ModelChat& chat, const Tokenizer& tok, const ImageEncoder* encoder,
                       const ChatRequest& c, const std::string& model_id) {
  ChatPrompt p;
  const auto render = [&](const nlohmann::ordered_json& messages) {
    return chat::render_chat(chat, messages, c.tools, c.add_generation_prompt);
  };
  auto refused = [](const std::exception& e) {
    return ApiError(400, "template_error", std::string("the model's chat template refused the conversation: ") + e.what(),
                    "messages");
  };
  if (c.images.empty()) {
    try {
      p.rendered = render(c.messages);
    } catch (const jinja::RenderError& e) {
      throw refused(e);
    }
    p.ids = chat::chat_prompt_ids(tok, p.rendered);
    return p;
  }
  if (!encoder || !encoder->has_encoder())
    throw ApiError(400, "no_image_projector",
                   fmt::format("{}: model '{}' has no image projector, so it cannot see images (tenx serve takes one "
                               "with --mmproj FILE, or NAME.mmproj.gguf beside the model)",
                               c.images.front().param, model_id),
                   c.images.front().param);
  auto images = std::make_shared<PromptImages>();
  std::vector<ImageRows> layouts;
  for (const ChatImage& im : c.images) {
    suites::Image decoded = decode_chat_image(im);
    const ImagePixels pixels{decoded.h, decoded.w, decoded.c, decoded.max, std::span<const uint8_t>(decoded.pixels)};
    try {
      layouts.push_back(encoder->layout(pixels));
    } catch (const Error& e) {
      throw ApiError(400, "invalid_image", fmt::format("{}: the image projector cannot take it: {}", im.param, e.detail()),
                     im.param);
    }
    images->images.push_back(std::move(decoded));
  }
  try {
    p.rendered = chat::render_chat_with_media(render, c.messages, c.images.size());
  } catch (const jinja::RenderError& e) {
    throw refused(e);
  } catch (const Error& e) {
    throw ApiError(400, "template_error", std::string("the images have no place in the prompt: ") + e.detail(),
                   "messages");
  }
  images->prompt = chat::chat_media_prompt(tok, p.rendered, layouts);
  p.ids = images->prompt.ids;
  p.images = std::move(images);
  return p;
}

}  // namespace tenx::serve
