#pragma once
// An estimate of the input tokens of a Responses API request (POST
// /v1/responses/input_tokens), with the gateway's estimator
// (accounting/token_estimate.h): the same method as for chat requests,
// applied to Responses items. Iterative over a bounded document; never throws.

#include <cstdint>

#include "tollgate/json_view.h"

namespace tollgate {

// `instructions` (as one system message), `input` (a string, or items:
// messages with input_text/output_text/refusal parts and input_image
// (85 tokens at detail "low", else 765), function_call (name + arguments),
// function_call_output (output), reasoning (summary texts); other items
// count their overhead only), and `tools` (compact JSON + 8 each), plus 3
// for the reply primer.
int64_t estimate_responses_input_tokens(JsonView body);

}  // namespace tollgate
