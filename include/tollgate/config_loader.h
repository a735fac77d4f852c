#pragma once
// YAML -> Config. Every problem is reported at once, each with its YAML path:
//   models[1].deployments[0].provider: unknown provider "opnai"

#include <memory>
#include <string>
#include <vector>

#include "tollgate/config.h"

namespace tollgate {

struct ConfigLoadResult {
  std::shared_ptr<const Config> config;  // null when errors is non-empty
  std::vector<std::string> errors;
  std::vector<std::string> warnings;
};

// Reads and validates a YAML file. Environment references `${VAR}` (anywhere in
// a scalar) and `os.environ/VAR` (a whole scalar) are substituted; an unset
// variable is an error naming the variable, never its value.
ConfigLoadResult load_config_file(const std::string& path);
ConfigLoadResult load_config_string(const std::string& yaml_text);

}  // namespace tollgate
