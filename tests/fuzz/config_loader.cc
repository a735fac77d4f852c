// load_config_string over arbitrary YAML. Checks the loader's contract:
// no exception escapes; either a config and no errors, or errors and no
// config; no empty message; an environment variable's value
// never appears in an error or warning unless the text itself contains it
// (the fuzzer can reference the variable set below with ${...} or
// os.environ/...); loading is deterministic.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "fuzz_support.h"
#include "tollgate/config_loader.h"

namespace {

constexpr const char* kSecret = "fz-env-secret-3b9f0c";

bool setup() {
  tollgate::fuzz::quiet_logs();
  ::setenv("TOLLGATE_FUZZ_SECRET", kSecret, 1);
  ::unsetenv("TOLLGATE_FUZZ_UNSET");
  return true;
}

void check(const tollgate::ConfigLoadResult& r, const std::string& text) {
  FUZZ_CHECK((r.config != nullptr) == r.errors.empty(), "config and errors disagree");
  const bool text_has_secret = text.find(kSecret) != std::string::npos;
  for (const auto* list : {&r.errors, &r.warnings}) {
    for (const auto& e : *list) {
      FUZZ_CHECK(!e.empty(), "an empty message");
      if (!text_has_secret) FUZZ_CHECK(e.find(kSecret) == std::string::npos, e);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool ready = setup();
  (void)ready;
  if (size > 64 * 1024) return 0;  // config files are small; bigger inputs only slow the search
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto first = tollgate::load_config_string(text);
  check(first, text);
  const auto second = tollgate::load_config_string(text);
  FUZZ_CHECK(first.errors == second.errors && first.warnings == second.warnings, "loading is not deterministic");
  return 0;
}
