// The spool record decoders: view_spend_row (format 2, in place, what the
// shipper hands to the database) and decode_spend_row (both formats, what a
// restart reads back). The whole input is one record payload.
// Checks: each either answers or throws std::runtime_error, nothing else;
// a view's text lies inside the payload; what the view accepts, the full
// decode accepts too, with the same fields (the stores can read back what
// they were given); a decoded row re-encodes to a format 2 record that
// views and decodes to the same row, its text made UTF-8; a format 1 record that decodes can be
// upgraded (encode, then view), as the shipper does. The JSON checks the
// view makes agree with nlohmann::json on the whole input as JSON text
// (except a leading byte order mark and NUL bytes, which they refuse).
#include <cstdint>
#include <string>
#include <string_view>

#include "accounting/json_text.h"
#include "accounting/spend_row_codec.h"
#include "fuzz_support.h"

namespace {

using tollgate::SpendRow;
using tollgate::SpendRowView;

// What encode_spend_row writes for a row: its text fields and tags as
// UTF-8, each byte that starts no UTF-8 sequence becoming U+FFFD.
SpendRow as_written(SpendRow r) {
  for (std::string* t : {&r.request_id, &r.key_id, &r.key_alias, &r.key_name, &r.team_id, &r.user_id, &r.end_user,
                         &r.route, &r.requested_model, &r.model_group, &r.deployment, &r.provider, &r.api_base,
                         &r.error_type, &r.reason, &r.cost_usd})
    *t = tollgate::to_utf8(*t);
  for (auto& t : r.tags) t = tollgate::to_utf8(t);
  return r;
}

bool inside(std::string_view s, std::string_view in) {
  return s.empty() || (s.data() >= in.data() && s.data() + s.size() <= in.data() + in.size());
}

void expect_same(const SpendRow& a, const SpendRow& b) {
  FUZZ_CHECK(a.kind == b.kind && a.request_id == b.request_id && a.start_time == b.start_time &&
                 a.end_time == b.end_time && a.key_id == b.key_id && a.key_alias == b.key_alias &&
                 a.key_name == b.key_name && a.team_id == b.team_id && a.user_id == b.user_id &&
                 a.end_user == b.end_user && a.route == b.route && a.requested_model == b.requested_model &&
                 a.model_group == b.model_group && a.deployment == b.deployment && a.provider == b.provider &&
                 a.api_base == b.api_base && a.stream == b.stream && a.status == b.status &&
                 a.error_type == b.error_type && a.reason == b.reason && a.prompt_tokens == b.prompt_tokens &&
                 a.completion_tokens == b.completion_tokens && a.cached_tokens == b.cached_tokens &&
                 a.reasoning_tokens == b.reasoning_tokens && a.cost_usd == b.cost_usd &&
                 a.latency_ms == b.latency_ms && a.ttft_ms == b.ttft_ms && a.overhead_ms == b.overhead_ms &&
                 a.cache_hit == b.cache_hit,
             "fields differ after a round trip");
  FUZZ_CHECK(a.tags == b.tags, "tags differ after a round trip");
  // Compared as what the stored text reads back as: JSON has no inf (a
  // number too large for a double prints as null either way), and format 1
  // could hold strings that are not UTF-8 (U+FFFD in format 2), also object
  // keys, two of which can then become one (the last one wins, as in
  // PostgreSQL's jsonb).
  auto stored = [](const nlohmann::json& j) {
    const auto text = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    const auto back = nlohmann::json::parse(text, nullptr, false);
    FUZZ_CHECK(!back.is_discarded(), "metadata text that does not parse");
    return back.dump();
  };
  FUZZ_CHECK(stored(a.metadata) == stored(b.metadata), "metadata differs after a round trip");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Format 1 is read by nlohmann's MessagePack reader, which recurses per
  // nesting level; spool records are the gateway's own CRC-checked bytes,
  // and this bound keeps the fuzzer's deep nests within the stack.
  if (size > 4096) return 0;
  static const bool quiet = tollgate::fuzz::quiet_logs();
  (void)quiet;
  const std::string payload(reinterpret_cast<const char*>(data), size);

  // nlohmann skips a leading UTF-8 byte order mark and reads a NUL byte as
  // the end of the text ("2\0garbage" is 2); the checks refuse both (the
  // databases would keep the bytes, or cut them).
  const bool other = payload.starts_with("\xef\xbb\xbf") || payload.find('\0') != std::string::npos;
  FUZZ_CHECK(tollgate::is_json(payload) == (!other && nlohmann::json::accept(payload)),
             "is_json disagrees with nlohmann");
  {
    const auto j = nlohmann::json::parse(payload, nullptr, false);
    bool strings = !other && j.is_array();
    for (std::size_t i = 0; strings && i < j.size(); ++i) strings = j[i].is_string();
    FUZZ_CHECK(tollgate::is_json_string_array(payload) == strings, "is_json_string_array disagrees with nlohmann");
  }

  bool viewed = false;
  SpendRowView view;
  try {
    view = tollgate::view_spend_row(payload);
    viewed = true;
  } catch (const std::runtime_error&) {
  }
  if (viewed) {
    FUZZ_CHECK(tollgate::is_current_spend_row(payload), "a view of a record that is not format 2");
    for (std::string_view s : {view.request_id, view.key_id, view.key_alias, view.key_name, view.team_id,
                               view.user_id, view.end_user, view.route, view.requested_model, view.model_group,
                               view.deployment, view.provider, view.api_base, view.error_type, view.reason,
                               view.cost_usd, view.tags_json, view.metadata_json})
      FUZZ_CHECK(inside(s, payload), "a view field points outside the payload");
  }

  SpendRow row;
  try {
    row = tollgate::decode_spend_row(payload);
  } catch (const std::runtime_error&) {
    FUZZ_CHECK(!viewed, "the view accepted what the full decode refuses");
    return 0;
  }
  if (viewed) expect_same(tollgate::to_spend_row(view), row);

  const std::string again = tollgate::encode_spend_row(row);
  SpendRow back;
  try {
    back = tollgate::to_spend_row(tollgate::view_spend_row(again));
  } catch (const std::runtime_error& e) {
    FUZZ_CHECK(false, e.what());  // the shipper's upgrade of a format 1 record would skip it
  }
  // Re-encoded, text that was not UTF-8 (a format 1 record's, or a format 2
  // record's that this encoder would not have written) becomes U+FFFD and
  // nothing else changes.
  expect_same(back, as_written(row));
  expect_same(tollgate::decode_spend_row(again), back);
  return 0;
}
