#pragma once
// Refuses new LLM requests with 503 while the ledger's spool is at its bound
// (the database has been unreachable for long): a request that could not be
// recorded is not served. Admin and health routes pass.

#include <memory>

#include "tollgate/middleware.h"

namespace tollgate {

class Ledger;

class LedgerGate final : public Middleware {
 public:
  explicit LedgerGate(std::shared_ptr<Ledger> ledger) : ledger_(std::move(ledger)) {}
  std::string_view name() const override { return "ledger_gate"; }
  boost::asio::awaitable<Decision> on_request(RequestContext& ctx) override;

 private:
  std::shared_ptr<Ledger> ledger_;
};

}  // namespace tollgate
