#include "support/test_database.h"

#include <cstdlib>
#include <filesystem>
#include <random>
#include <regex>

#include <pqxx/pqxx>

namespace tollgate::test {

namespace {

std::string random_suffix() {
  std::random_device rd;
  std::mt19937_64 rng(rd());
  static constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string s;
  for (int i = 0; i < 12; ++i) s += alphabet[rng() % 36];
  return s;
}

// postgresql://user:pass@host:port/db?opts -> (prefix up to '/', db, suffix)
bool split_url(const std::string& url, std::string& prefix, std::string& db, std::string& suffix) {
  static const std::regex re(R"(^(postgres(?:ql)?://[^/]*/)([^?]*)(\?.*)?$)");
  std::smatch m;
  if (!std::regex_match(url, m, re)) return false;
  prefix = m[1];
  db = m[2];
  suffix = m[3];
  return true;
}

}  // namespace

TestDatabase::TestDatabase(const std::string& kind) : kind_(kind) {
  dir_ = (std::filesystem::temp_directory_path() / ("tollgate-test-" + random_suffix())).string();
  std::filesystem::create_directories(dir_);
  if (kind == "sqlite") {
    url_ = "sqlite://" + dir_ + "/tollgate.db";
    return;
  }
  const char* base = std::getenv("TOLLGATE_TEST_PG_URL");
  if (!base || !*base) return;
  std::string prefix, db, suffix;
  if (!split_url(base, prefix, db, suffix)) throw std::runtime_error("TOLLGATE_TEST_PG_URL is not a postgresql:// URL");
  admin_url_ = base;
  db_name_ = "tollgate_t_" + random_suffix();
  pqxx::connection c(admin_url_);
  pqxx::nontransaction tx(c);
  tx.exec("CREATE DATABASE " + tx.quote_name(db_name_));
  url_ = prefix + db_name_ + suffix;
}

TestDatabase::~TestDatabase() {
  if (!db_name_.empty()) {
    try {
      pqxx::connection c(admin_url_);
      pqxx::nontransaction tx(c);
      tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(db_name_) + " WITH (FORCE)");
    } catch (const std::exception&) {
      // A leftover test database is harmless; the cluster is the test's own.
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string TestDatabase::server_host_port() const {
  static const std::regex re(R"(^postgres(?:ql)?://(?:[^@/]*@)?([^/?]+))");
  std::smatch m;
  if (kind_ == "sqlite" || !std::regex_search(url_, m, re)) return "";
  std::string hp = m[1];
  return hp.find(':') == std::string::npos ? hp + ":5432" : hp;
}

std::string TestDatabase::url_via(const std::string& host_port) const {
  const std::string current = server_host_port();
  std::string out = url_;
  auto pos = out.find(current);
  if (pos == std::string::npos) {
    // No explicit port in the URL: the host alone appears.
    const std::string host = current.substr(0, current.find(':'));
    pos = out.find(host);
    if (pos != std::string::npos) out.replace(pos, host.size(), host_port);
    return out;
  }
  out.replace(pos, current.size(), host_port);
  return out;
}

}  // namespace tollgate::test
