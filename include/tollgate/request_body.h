#pragma once
// A request's JSON body as the gateway holds it: the client's document,
// parsed once (JsonDocument) and never modified or copied, plus the
// gateway's changes to its top-level members (JsonPatch). Validation,
// policy, limits, budgets and adapters all read it through view(); adapters
// for OpenAI-shaped upstreams send serialize(), which splices the changed
// members into the client's bytes instead of rebuilding the document.
//
// A body can also hold a tree the gateway built (an Anthropic request
// translated to the chat shape, a health-check probe, a test fixture).
//
// Copying a body is cheap (the document is shared; the patch is copied), so
// an attempt can change its own copy (the parameter policy) and leave the
// request's body as the client sent it for the next attempt.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "tollgate/json_document.h"
#include "tollgate/json_patch.h"
#include "tollgate/json_view.h"

namespace tollgate {

class RequestBody {
 public:
  RequestBody();  // {}
  RequestBody(nlohmann::json tree);  // NOLINT(google-explicit-constructor): gateway-built bodies
  explicit RequestBody(std::shared_ptr<const JsonDocument> document);

  // The root, with the changes applied when it is an object.
  JsonView view() const noexcept;
  JsonView operator[](std::string_view key) const noexcept { return view()[key]; }
  JsonView operator[](const char* key) const noexcept { return view()[std::string_view(key)]; }
  bool contains(std::string_view key) const noexcept { return view().contains(key); }
  bool is_object() const noexcept { return view().is_object(); }

  // Changes a top-level member (an object root only; otherwise ignored).
  void set(std::string_view key, nlohmann::json value);
  void erase(std::string_view key);
  const JsonPatch& changes() const noexcept { return patch_; }

  // The body's JSON text: the client's bytes with the changed members spliced
  // in (unchanged members are copied byte for byte, in their order; added
  // ones come last), or a gateway-built body's compact dump.
  std::string serialize() const;
  // Bytes of a top-level member's value as serialize() writes it; 0 when absent.
  std::size_t member_bytes(std::string_view key) const;
  nlohmann::json to_json() const { return view().to_json(); }

  // The parsed client document, or null for a gateway-built body.
  const JsonDocument* document() const noexcept { return doc_.get(); }

 private:
  std::shared_ptr<const JsonDocument> doc_;
  std::shared_ptr<const nlohmann::json> tree_;
  JsonPatch patch_;
};

}  // namespace tollgate
