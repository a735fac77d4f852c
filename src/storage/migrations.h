#pragma once
// Schema migrations, shared by PgStore and SqliteStore. The SQL lives in
// migrations/<dialect>/NNNN_name.sql and is compiled into the binary
// (cmake/EmbedData.cmake), so `tollgate migrate` works from any directory.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace tollgate::storage {

enum class Dialect { postgresql, sqlite };

struct Migration {
  int version = 0;     // NNNN from the file name
  std::string name;    // file name, e.g. "0001_init.sql"
  std::string sql;     // may hold several statements
};

// Every migration of the dialect, ordered by version.
const std::vector<Migration>& migrations(Dialect dialect);

// Applies the migrations in order. apply_if_new runs one migration in its own
// transaction (holding the store's migration lock), records it in
// schema_migrations and returns false when it had already been applied.
// Returns the names applied by this call.
std::vector<std::string> run_migrations(Dialect dialect,
                                        const std::function<bool(const Migration&)>& apply_if_new);

}  // namespace tollgate::storage
