#include "providers/provider_adapter.h"

namespace tollgate {

Result<std::string> ProviderAdapter::translate_response_body(const RequestContext& ctx, const JsonDocument& native,
                                                             Usage& usage) const {
  auto translated = translate_response(ctx, native.root().to_json(), usage);
  if (!translated) return translated.error();
  return translated->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace tollgate
