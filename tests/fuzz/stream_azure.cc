// Azure OpenAI streamed responses through the adapter's StreamDecoder and the
// StreamNormalizer, as the live path runs them (checks: adapter_fuzz.h).
#include "adapter_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return tollgate::fuzz::fuzz_stream(tollgate::ProviderType::azure, data, size);
}
