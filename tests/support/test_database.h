#pragma once
// A fresh database per test: an SQLite file in a temporary directory, or a
// new PostgreSQL database on the server named by TOLLGATE_TEST_PG_URL (which
// scripts/test.sh starts), dropped again afterwards.

#include <memory>
#include <string>

namespace tollgate::test {

class TestDatabase {
 public:
  // kind: "sqlite" or "postgresql".
  explicit TestDatabase(const std::string& kind);
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  // Empty when PostgreSQL was asked for and TOLLGATE_TEST_PG_URL is unset.
  const std::string& url() const { return url_; }
  // The same database reached through another host:port (an outage proxy).
  std::string url_via(const std::string& host_port) const;
  // PostgreSQL's host:port ("" for SQLite).
  std::string server_host_port() const;
  const std::string& dir() const { return dir_; }  // scratch directory (spools, files)

 private:
  std::string kind_;
  std::string url_;
  std::string admin_url_;
  std::string db_name_;
  std::string dir_;
};

// Skips the test when PostgreSQL is wanted but not configured; fails instead
// under CI (CI must never skip PostgreSQL silently).
#define TOLLGATE_REQUIRE_DATABASE(db)                                                              \
  do {                                                                                             \
    if ((db).url().empty()) {                                                                      \
      if (std::getenv("CI")) FAIL() << "TOLLGATE_TEST_PG_URL is not set under CI";                \
      GTEST_SKIP() << "TOLLGATE_TEST_PG_URL not set (scripts/test.sh starts PostgreSQL and sets it)"; \
    }                                                                                              \
  } while (0)

}  // namespace tollgate::test
