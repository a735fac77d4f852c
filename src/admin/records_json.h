#pragma once
// Admin API bodies <-> store records, with LiteLLM's field names. Readers
// validate every field they are given and report the first bad one as a 400
// naming it; fields they do not know are rejected too (a typo must not be
// ignored silently), except LiteLLM fields Tollgate accepts and ignores.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tollgate/error.h"
#include "tollgate/store.h"

namespace tollgate {

// ISO 8601 UTC with milliseconds ("2026-11-21T10:00:00.000Z").
std::string iso8601(TimePoint t);
// Accepts "YYYY-MM-DD" (midnight UTC) and "YYYY-MM-DDTHH:MM:SS[.fff][Z|+00:00]".
std::optional<TimePoint> parse_time(const std::string& s);

nlohmann::json limits_json(const Limits& l);
nlohmann::json key_json(const KeyRecord& k);    // never the key itself
nlohmann::json team_json(const TeamRecord& t);
nlohmann::json user_json(const UserRecord& u);
nlohmann::json end_user_json(const EndUserRecord& e);
nlohmann::json spend_row_json(const SpendRow& r);

// Applies the fields present in `body` to the record (create and update share
// them). `now` computes expiry from "duration" and the first budget reset.
// Returns an error naming the offending field.
std::optional<ApiError> apply_key_fields(const nlohmann::json& body, KeyRecord& key, TimePoint now);
std::optional<ApiError> apply_team_fields(const nlohmann::json& body, TeamRecord& team, TimePoint now);
std::optional<ApiError> apply_user_fields(const nlohmann::json& body, UserRecord& user, TimePoint now);
std::optional<ApiError> apply_end_user_fields(const nlohmann::json& body, EndUserRecord& end_user, TimePoint now);

}  // namespace tollgate
