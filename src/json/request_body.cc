#include "tollgate/request_body.h"

namespace tollgate {

using nlohmann::json;

namespace {

void dump_value(const json& v, std::string& out) { out += v.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace

RequestBody::RequestBody() : tree_(std::make_shared<const json>(json::object())) {}

RequestBody::RequestBody(json tree) : tree_(std::make_shared<const json>(std::move(tree))) {}

RequestBody::RequestBody(std::shared_ptr<const JsonDocument> document) : doc_(std::move(document)) {}

JsonView RequestBody::view() const noexcept {
  JsonView v = doc_ ? doc_->root() : JsonView(*tree_);
  if (!patch_.empty() && v.is_object()) v.patch_ = &patch_;
  return v;
}

void RequestBody::set(std::string_view key, json value) {
  if (!(doc_ ? doc_->root() : JsonView(*tree_)).is_object()) return;
  patch_.set(key, std::move(value));
}

void RequestBody::erase(std::string_view key) {
  if (!(doc_ ? doc_->root() : JsonView(*tree_)).is_object()) return;
  if (view().contains(key) || patch_.find(key)) patch_.erase(key);
}

std::string RequestBody::serialize() const {
  if (!doc_ || !doc_->root().is_object()) {
    if (!doc_ && patch_.empty()) {
      std::string out;
      dump_value(*tree_, out);
      return out;
    }
    return view().dump();
  }
  const std::string_view text = doc_->text();
  const auto& members = doc_->members();
  std::string out;
  out.reserve(text.size() + 64);
  out += '{';
  bool first = true;
  auto separate = [&] {
    if (!first) out += ',';
    first = false;
  };
  for (const auto& m : members) {
    const auto* change = patch_.find(m.key);
    if (!change) {
      separate();
      out.append(text.substr(m.begin, m.value_end - m.begin));
    } else if (change->value) {
      separate();
      out.append(text.substr(m.begin, m.value_begin - m.begin));
      dump_value(*change->value, out);
    }
  }
  for (const auto& c : patch_.changes()) {
    if (!c.value) continue;
    bool original = false;
    for (const auto& m : members) original = original || m.key == c.key;
    if (original) continue;
    separate();
    dump_value(json(c.key), out);
    out += ':';
    dump_value(*c.value, out);
  }
  out += '}';
  return out;
}

std::size_t RequestBody::member_bytes(std::string_view key) const {
  if (const auto* change = patch_.find(key)) return change->value ? change->value->dump().size() : 0;
  if (doc_) {
    for (const auto& m : doc_->members()) {
      if (m.key == key) return m.value_end - m.value_begin;
    }
    return 0;
  }
  JsonView v = JsonView(*tree_)[key];
  return v.present() ? v.dump().size() : 0;
}

}  // namespace tollgate
