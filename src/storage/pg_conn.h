#pragma once
// PgStore's connection state, shared by pg_store.cc and pg_ledger.cc.
// Internal to src/storage.

#include <string>

#include <pqxx/pqxx>

#include "storage/pg_store.h"

namespace tollgate::storage {

struct PgStore::Conn {
  explicit Conn(const std::string& url) : c(url) {}
  pqxx::connection c;
  // The transaction statements run in: the open transaction, or a savepoint
  // inside it while one is open; nullptr outside a transaction.
  pqxx::dbtransaction* tx = nullptr;
};

// Call inside a catch block: turns the current libpqxx exception into a
// StoreError of the right kind.
[[noreturn]] void rethrow_as_store_error();

}  // namespace tollgate::storage
