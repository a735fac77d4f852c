// OpenAI request building (build_request after the parameter policy) over
// fuzzed client bodies (checks: request_fuzz.h).
#include "request_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return tollgate::fuzz::fuzz_request(tollgate::ProviderType::openai, data, size);
}
