#pragma once
// SpendRow <-> spool record payload. Pure functions, thread-safe.
//
// Format 2 (written since the ledger was made fast; all integers
// little-endian):
//   u8      2, the format version
//   u8      flags: 1 rejection, 2 stream, 4 cache_hit, 8 ttft_ms present;
//           other bits are 0
//   i64     start_time, end_time: system_clock ticks, 8 bytes each
//   varint  status, prompt_tokens, completion_tokens, cached_tokens,
//           reasoning_tokens, latency_ms, [ttft_ms], overhead_ms: zigzag
//           LEB128, at most 10 bytes each
//   string  request_id, key_id, key_alias, key_name, team_id, user_id,
//           end_user, route, requested_model, model_group, deployment,
//           provider, api_base, error_type, reason, cost_usd, tags (JSON
//           array of strings, tags_json()), metadata (JSON,
//           metadata_json()): LEB128 length, then the bytes
// and nothing after. Text fields are UTF-8 (a byte that starts no UTF-8
// sequence is written as U+FFFD, so every store takes them; a NUL is kept
// and PostgreSQL cuts the text there); tags and metadata
// are the JSON text the stores keep, so the shipper hands every field to
// the database as it lies in the record (view_spend_row), without a tree.
//
// Format 1 (the first releases) is a MessagePack map and starts with a map
// header (0x80-0x8f, 0xde, 0xdf), never with 2: a spool written by an older
// gateway can hold unshipped format 1 records across an upgrade, and
// decode_spend_row still reads them.

#include <string>
#include <string_view>

#include "tollgate/store.h"

namespace tollgate {

// Format 2.
std::string encode_spend_row(const SpendRow& row);

// Either format. Throws std::runtime_error when the payload is not a spend
// row record (or its tags or metadata are not the JSON they must be, or its
// cost is not a decimal amount the stores can hold).
SpendRow decode_spend_row(std::string_view payload);

// True when the payload is in format 2 (view_spend_row reads it); a format
// 1 record is turned into one by encode_spend_row(decode_spend_row(p)).
bool is_current_spend_row(std::string_view payload);

// Format 2 only, in place: the view's text fields point into `payload`.
// Checks the framing, that tags and metadata are JSON and that cost_usd is
// a decimal amount within the stores' range, so what it accepts the stores
// take (a record they could never take would hold up every row behind it).
// Throws std::runtime_error otherwise.
SpendRowView view_spend_row(std::string_view payload);

}  // namespace tollgate
