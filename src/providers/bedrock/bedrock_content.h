#pragma once
// OpenAI message content -> Converse content blocks (wire formats §4.1):
// the pieces of request translation that look at one part or one tool call.
// Pure.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tollgate/error.h"
#include "tollgate/json_view.h"

namespace tollgate::bedrock {

// A 400 for input Bedrock cannot take, naming the offending parameter.
ApiError unsupported(std::string message, std::string param, std::string code = "unsupported_content");

// One user content part -> a Converse block, or nullopt when there is nothing
// to send (empty text). text -> {text}; image_url with a base64 data URL of
// png/jpeg(jpg)/gif/webp -> {image}; file with a data URL of a document type
// Bedrock reads (pdf, csv, doc, docx, xls, xlsx, html, txt, md) ->
// {document} named after the file name (sanitised; `documents` numbers the
// unnamed ones). Remote URLs, other media types and other part types are a
// 400 naming `param`.
Result<std::optional<nlohmann::json>> user_content_block(JsonView part, const std::string& param,
                                                         std::size_t& documents);

// The texts of a system/developer or tool message: its string, or its text
// parts; any other part type is a 400.
Result<std::vector<std::string>> text_parts(JsonView content, const std::string& param);

// A tool call's arguments as the object toolUse.input takes: "" or absent ->
// {}; a JSON object string -> parsed; anything else a 400 naming
// `param`.function.arguments.
Result<nlohmann::json> tool_input(JsonView call, const std::string& param);

}  // namespace tollgate::bedrock
