#pragma once
// A chat request as the scheduler runs it (server.cpp): the conversation rendered through the
// model's template and tokenized with its special tokens, and, when it holds images, each image
// decoded and laid out where the template put its media marker (docs/serve.md, "Images").
#include <memory>
#include <string>
#include <vector>

#include "tenx/chat/chat_media.hpp"
#include "tenx/chat/model_chat.hpp"
#include "tenx/serve/request.hpp"
#include "tenx/serve/scheduler.hpp"

namespace tenx::serve {

struct ChatPrompt {
  std::string rendered;
  std::vector<int32_t> ids;
  std::shared_ptr<PromptImages> images;  // null: text only
};

// Throws ApiError 400: template_error (the template refused the conversation, or dropped the text an
// image sits in), no_image_projector (images for a model without one), invalid_image (an image that
// does not decode or that its encoder cannot take).
ChatPrompt chat_prompt(const chat::ModelChat& chat, const Tokenizer& tok, const ImageEncoder* encoder,
                       const ChatRequest& request, const std::string& model_id);

}  // namespace tenx::serve
