// Placeholder until the azure adapter lands: the factory reports the type as
// unavailable at start-up. Replaced by the adapter implementation.
#include "providers/adapter_factory.h"

namespace tollgate {

std::unique_ptr<ProviderAdapter> make_azure_adapter(const ProviderConfig&) { return nullptr; }

}  // namespace tollgate
