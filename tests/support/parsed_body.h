#pragma once
// A body as the gateway holds a client's: its text parsed once by the limited
// parser into a RequestBody, so that a translator reads it through the tape
// (document order, simdjson's number types) as it does in production, not
// through the nlohmann tree a fixture was written as.

#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tollgate/json_document.h"
#include "tollgate/request_body.h"

namespace tollgate::testing {

inline RequestBody parsed_body(const std::string& text) {
  auto doc = JsonDocument::parse(text, JsonLimits{});
  EXPECT_TRUE(doc.ok()) << text;
  return doc.ok() ? RequestBody(std::move(doc.value())) : RequestBody();
}

inline RequestBody parsed_body(const nlohmann::json& fixture) { return parsed_body(fixture.dump()); }

}  // namespace tollgate::testing
