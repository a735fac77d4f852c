#pragma once
// `tollgate migrate [--database URL]`: applies the embedded schema migrations
// to the database (URL from --database, else $TOLLGATE_DATABASE) and prints
// what it applied. Returns the process exit code: 0 done, 1 failed, 2 usage.

namespace tollgate {
int migrate_command(int argc, char** argv);  // argv[1] == "migrate"
}
