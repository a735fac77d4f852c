// Gemini non-streaming answers (translate_response) and error answers
// (map_error, map_error_response) over fuzzed upstream bodies (checks:
// adapter_fuzz.h).
#include "adapter_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return tollgate::fuzz::fuzz_response(tollgate::ProviderType::gemini, data, size);
}
