#pragma once
// Data files compiled into the binary by cmake/EmbedData.cmake.
#include <string_view>

namespace tollgate::embedded {
std::string_view prices();             // data/prices.json
std::string_view provider_profiles();  // data/provider_profiles.json
std::string_view model_capabilities(); // data/model_capabilities.json
// Schema migrations; src/storage/migrations.cc lists them per dialect.
std::string_view migrations_postgresql_0001_init();  // migrations/postgresql/0001_init.sql
std::string_view migrations_sqlite_0001_init();      // migrations/sqlite/0001_init.sql
std::string_view migrations_postgresql_0002_stored_responses();  // migrations/postgresql/0002_stored_responses.sql
std::string_view migrations_sqlite_0002_stored_responses();      // migrations/sqlite/0002_stored_responses.sql
}  // namespace tollgate::embedded
