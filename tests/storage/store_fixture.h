#pragma once
// The store suite's fixture: one fresh database per test, SQLite (temp file)
// or PostgreSQL (a fresh schema in $TOLLGATE_TEST_PG_URL).

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tollgate/store.h"

namespace tollgate::testing {

// UTC time with microsecond precision (what both stores keep).
TimePoint utc(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0, int us = 0);

class StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override;
  void TearDown() override;

  // A new connection to this test's database.
  std::unique_ptr<Store> connect() { return factory_(); }
  // Runs a read-only query outside the Store interface (finance views):
  // every cell as text, NULL as "<null>".
  std::vector<std::vector<std::string>> query(const std::string& sql);

  std::unique_ptr<Store> store;
  std::vector<std::string> first_migration;
  std::function<std::unique_ptr<Store>()> factory_;
  std::string url_;
  std::string pg_admin_url_, pg_schema_, sqlite_path_;
};

}  // namespace tollgate::testing
