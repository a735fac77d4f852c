#pragma once
// Environment references in config scalars: `${NAME}` and `${NAME:-default}`
// anywhere in the text, and `os.environ/NAME` as the whole text.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tollgate {

// A variable's value, or nullopt when it is unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// Reads the process environment (getenv). Not thread-safe against setenv.
EnvLookup process_environment();

struct EnvSubstitution {
  std::string value;         // the text with every reference replaced
  bool substituted = false;  // a reference was replaced: `value` may hold a secret
  // Each error names the variable, never a value. When non-empty, `value` is
  // meaningless.
  std::vector<std::string> errors;
};

// Rules:
//   os.environ/NAME    (whole text)  NAME's value; error when unset
//   ${NAME}            (anywhere)    NAME's value; error when unset
//   ${NAME:-default}   (anywhere)    NAME's value, or `default` when unset or empty
//   $${                (anywhere)    a literal "${"
// NAME is [A-Za-z_][A-Za-z0-9_]*. A `$` not followed by `{` is kept as is.
EnvSubstitution substitute_env(std::string_view text, const EnvLookup& lookup);

// `${...}` is not valid inside YAML flow collections (`{key: ${VAR}}` is a
// syntax error), yet that is how ops write it. Before parsing, each reference
// is swapped for a placeholder made of plain-scalar characters; scalars get
// the original text back (restore_env_references) before substitute_env.
std::string protect_env_references(std::string_view yaml, std::vector<std::string>& refs);
std::string restore_env_references(std::string_view scalar, const std::vector<std::string>& refs);

}  // namespace tollgate
