#pragma once
// Changes the gateway makes to a request's top-level members (the upstream
// model name, an injected max_tokens, a dropped parameter), kept apart from
// the client's parsed document, which is never modified or copied. A view of
// the document's root with a patch shows the changed members instead of the
// original ones (see JsonView).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace tollgate {

class JsonPatch {
 public:
  struct Change {
    std::string key;
    std::optional<nlohmann::json> value;  // nullopt: the member is removed
  };

  // The change of `key`, or null when the patch leaves it as it is.
  const Change* find(std::string_view key) const noexcept {
    for (const auto& c : changes_) {
      if (c.key == key) return &c;
    }
    return nullptr;
  }
  void set(std::string_view key, nlohmann::json value) { slot(key).value = std::move(value); }
  void erase(std::string_view key) { slot(key).value.reset(); }
  bool empty() const noexcept { return changes_.empty(); }
  const std::vector<Change>& changes() const noexcept { return changes_; }

 private:
  Change& slot(std::string_view key) {
    for (auto& c : changes_) {
      if (c.key == key) return c;
    }
    return changes_.emplace_back(Change{std::string(key), std::nullopt});
  }

  std::vector<Change> changes_;
};

}  // namespace tollgate
