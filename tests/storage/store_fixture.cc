#include "storage/store_fixture.h"

#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <pqxx/pqxx>
#include <random>

namespace tollgate::testing {

TimePoint utc(int y, unsigned mo, unsigned d, int h, int mi, int s, int us) {
  using namespace std::chrono;
  sys_days day = year_month_day{year{y}, month{mo}, std::chrono::day{d}};
  return TimePoint(duration_cast<SystemClock::duration>(day.time_since_epoch() + hours(h) + minutes(mi) +
                                                        seconds(s) + microseconds(us)));
}

namespace {
std::string random_suffix() {
  std::random_device rd;
  std::mt19937_64 rng(rd());
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}
}  // namespace

void StoreTest::SetUp() {
  if (GetParam() == "sqlite") {
    sqlite_path_ = (std::filesystem::temp_directory_path() / ("tollgate_store_" + random_suffix() + ".db")).string();
    url_ = "sqlite://" + sqlite_path_;
  } else {
    const char* env = std::getenv("TOLLGATE_TEST_PG_URL");
    if (!env || !*env) {
      if (std::getenv("CI")) {
        FAIL() << "TOLLGATE_TEST_PG_URL is not set and CI is: the PostgreSQL store suite must run in CI "
                  "(scripts/test.sh starts PostgreSQL and sets it)";
      }
      GTEST_SKIP() << "TOLLGATE_TEST_PG_URL not set: skipping the PostgreSQL store suite "
                      "(scripts/test.sh starts PostgreSQL and sets it)";
    }
    pg_admin_url_ = env;
    pg_schema_ = "tollgate_test_" + random_suffix();
    {
      pqxx::connection c(pg_admin_url_);
      pqxx::nontransaction n(c);
      n.exec("CREATE SCHEMA " + pg_schema_);  // test-generated identifier, not input
    }
    url_ = pg_admin_url_ + (pg_admin_url_.find('?') == std::string::npos ? "?" : "&") +
           "options=-csearch_path%3D" + pg_schema_;
  }
  factory_ = store_factory(url_);
  store = factory_();
  first_migration = store->migrate();
}

void StoreTest::TearDown() {
  store.reset();
  if (!sqlite_path_.empty()) {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(sqlite_path_ + suffix);
  }
  if (!pg_schema_.empty()) {
    pqxx::connection c(pg_admin_url_);
    pqxx::nontransaction n(c);
    n.exec("SET client_min_messages = warning; DROP SCHEMA IF EXISTS " + pg_schema_ + " CASCADE");
  }
}

std::vector<std::vector<std::string>> StoreTest::query(const std::string& sql) {
  std::vector<std::vector<std::string>> out;
  if (!sqlite_path_.empty()) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(sqlite_path_.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    while (stmt && sqlite3_step(stmt) == SQLITE_ROW) {
      std::vector<std::string> row;
      for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
        auto* t = sqlite3_column_text(stmt, i);
        row.push_back(t ? reinterpret_cast<const char*>(t) : "<null>");
      }
      out.push_back(row);
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
  } else {
    pqxx::connection c(url_);
    pqxx::nontransaction n(c);
    for (const auto& r : n.exec(sql)) {
      std::vector<std::string> row;
      for (const auto& f : r) row.push_back(f.is_null() ? "<null>" : f.c_str());
      out.push_back(row);
    }
  }
  return out;
}

}  // namespace tollgate::testing
