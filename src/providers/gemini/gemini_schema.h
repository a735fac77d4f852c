#pragma once
// JSON Schema (as OpenAI tools carry it) to the OpenAPI-3.0 subset Gemini
// accepts in functionDeclarations[].parameters (wire formats §3.2). Pure.

#include <nlohmann/json.hpp>

#include "tollgate/json_view.h"

namespace tollgate::gemini {

// Returns a schema Gemini accepts:
//  - `$ref` to `#/$defs/..` or `#/definitions/..` is inlined (recursion is cut
//    at a fixed depth and becomes a plain `{"type":"object"}`);
//  - `type: [X, "null"]` and `anyOf/oneOf: [X, {type: null}]` become X plus
//    `nullable: true`; `const` becomes a one-value string enum;
//  - keywords outside Gemini's Schema (`$schema`, `additionalProperties`,
//    `strict`, `exclusiveMinimum`, `examples`, ...) are dropped, as are
//    formats and enums the Schema type does not support;
//  - `required` keeps only names present in `properties`.
// Anything that is not an object is returned as `{}`. The schema is read
// through the view: only values Gemini takes as they are are copied.
nlohmann::json clean_schema(JsonView schema);

// True when `schema` is an object schema without properties: Gemini rejects
// `properties: {}` for OBJECT ("should be non-empty"), so such parameters are
// omitted, which Gemini reads as a function without arguments.
bool is_empty_object_schema(JsonView schema);

}  // namespace tollgate::gemini
