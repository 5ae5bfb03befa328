#pragma once
// Images in a conversation, as llama.cpp's server and mtmd place them (docs/vision.md, "In tenx run";
// docs/serve.md, "Images"): the messages' text holds the media marker where each image goes, the
// template renders the conversation, and each marker of the rendered text becomes its image's
// pieces (the projector's marker text around the encoder's rows). The template never sees an image:
// the model's image markers come from the projector, so every template places an image the same way.
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "tenx/model/tokenizer.hpp"
#include "tenx/model/vision.hpp"

namespace tenx::chat {

inline constexpr std::string_view kMediaMarker = "<__media__>";  // llama.cpp's mtmd_default_marker

// `render` applied to `messages` whose text holds n_media markers. A template that drops a string
// content (SmolVLM's iterates typed parts) is given each message whose content holds a marker as one
// {"type": "text"} part instead, as llama.cpp's server passes it. Throws tenx::Error when the
// rendered text still does not hold n_media markers (the template dropped the text, or a message's
// own text holds the marker); jinja::RenderError from the template as `render` throws it.
std::string render_chat_with_media(const std::function<std::string(const nlohmann::ordered_json&)>& render,
                                   const nlohmann::ordered_json& messages, size_t n_media);

// The rendered conversation's ids with the i-th media marker replaced by images[i]
// (splice_image_rows with special tokens parsed, image positions carrying image_token_id), and the
// vocabulary's bos in front as chat_prompt_ids adds it (embedding_row -1). `images` may hold the
// pieces alone (ImageEncoder::layout): the prompt's ids are then final and its embeddings empty.
MultimodalPrompt chat_media_prompt(const Tokenizer& tok, const std::string& rendered, std::span<const ImageRows> images);

}  // namespace tenx::chat
