#pragma once
// Config sections read outside config_loader.cc: the router (strategies,
// retries, circuit breakers, health checks), storage (database, ledger,
// budgets) and observability (metrics, tracing, reload), plus the readers
// the loader shares with them.

#include <string>
#include <string_view>

#include "config/yaml_reader.h"
#include "tollgate/config.h"

namespace tollgate::config_detail {

// Keys travel in an Authorization header and are compared byte for byte.
void check_secret(YamlReader& r, const std::string& path, const std::string& secret);
// One of weighted, least_busy, lowest_latency, lowest_cost, usage_based.
bool read_strategy(YamlReader& r, const Fields& f, std::string_view key, RoutingStrategy& out);

void load_router(YamlReader& r, const Fields& top, RouterConfig& out);
void load_storage(YamlReader& r, const Fields& top, Config& cfg);
void load_observability(YamlReader& r, const Fields& top, Config& cfg);

}  // namespace tollgate::config_detail
