#include "storage/migrations.h"

#include <algorithm>
#include <stdexcept>

#include "tollgate/embedded_data.h"

namespace tollgate::storage {
namespace {

Migration parse(std::string_view file_name, std::string_view sql) {
  Migration m;
  m.name = std::string(file_name);
  auto underscore = m.name.find('_');
  if (underscore == std::string::npos || underscore == 0) {
    throw std::logic_error("migration file name must be NNNN_name.sql: " + m.name);
  }
  m.version = std::stoi(m.name.substr(0, underscore));
  m.sql = std::string(sql);
  return m;
}

std::vector<Migration> sorted(std::vector<Migration> list) {
  std::sort(list.begin(), list.end(), [](const Migration& a, const Migration& b) { return a.version < b.version; });
  return list;
}

}  // namespace

const std::vector<Migration>& migrations(Dialect dialect) {
  // Add a new file here and to embed_data(...) in CMakeLists.txt.
  static const std::vector<Migration> pg = sorted({
      parse("0001_init.sql", embedded::migrations_postgresql_0001_init()),
      parse("0002_stored_responses.sql", embedded::migrations_postgresql_0002_stored_responses()),
  });
  static const std::vector<Migration> sqlite = sorted({
      parse("0001_init.sql", embedded::migrations_sqlite_0001_init()),
      parse("0002_stored_responses.sql", embedded::migrations_sqlite_0002_stored_responses()),
  });
  return dialect == Dialect::postgresql ? pg : sqlite;
}

std::vector<std::string> run_migrations(Dialect dialect,
                                        const std::function<bool(const Migration&)>& apply_if_new) {
  std::vector<std::string> applied;
  for (const auto& m : migrations(dialect)) {
    if (apply_if_new(m)) applied.push_back(m.name);
  }
  return applied;
}

}  // namespace tollgate::storage
