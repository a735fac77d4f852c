#include "storage/migrate_command.h"

#include <cstdlib>
#include <iostream>
#include <string>

#include "tollgate/store.h"

namespace tollgate {

int migrate_command(int argc, char** argv) {
  std::string url;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--database" && i + 1 < argc) {
      url = argv[++i];
    } else if (a.starts_with("--database=")) {
      url = a.substr(11);
    } else if (a == "--help" || a == "-h") {
      std::cout << "Usage: tollgate migrate [--database URL]\n"
                   "Applies the schema migrations not yet applied and lists them.\n"
                   "URL: postgresql://user:pass@host/db, sqlite:///abs/path.db or sqlite://rel/path.db\n"
                   "     (default: $TOLLGATE_DATABASE)\n";
      return 0;
    } else {
      std::cerr << "tollgate migrate: unknown argument \"" << a << "\" (usage: tollgate migrate [--database URL])\n";
      return 2;
    }
  }
  if (url.empty()) {
    const char* env = std::getenv("TOLLGATE_DATABASE");
    if (env) url = env;
  }
  if (url.empty()) {
    std::cerr << "tollgate migrate: no database: pass --database URL or set TOLLGATE_DATABASE\n";
    return 2;
  }
  // Never echo the URL: it may carry a password.
  const std::string scheme = url.substr(0, url.find(':'));
  try {
    auto store = store_factory(url)();
    auto applied = store->migrate();
    for (const auto& name : applied) std::cout << "applied " << name << "\n";
    auto all = store->applied_migrations();
    std::cout << (applied.empty() ? "database schema is up to date" : "done") << " (" << scheme << ", "
              << all.size() << " migration(s) applied in total"
              << (all.empty() ? "" : ", latest " + all.back()) << ")\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "tollgate migrate: failed (" << scheme << "): " << e.what() << "\n";
    return 1;
  }
}

}  // namespace tollgate
