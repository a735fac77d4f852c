#pragma once
// Budgets that never overshoot. Before a request is routed it reserves its
// worst-case cost against every budget that applies (key, team, user, end
// user); admission needs spent + reserved + this <= max for each. On
// completion the real cost settles and the reservation is released (also on
// errors, timeouts and client disconnects).
//
// Worst case = an upper bound of the prompt's tokens (its UTF-8 bytes plus
// the image/message estimate: a token is at least one byte) at the input
// price, plus the output limit at the output price, using the most expensive
// deployment of the model group and its fallbacks. The output limit is the
// request's max_tokens / max_completion_tokens, else the model's maximum from
// the price table, else budgets.default_max_output_tokens, which is then sent
// upstream as max_tokens so the reservation really bounds the response.

#include <memory>
#include <vector>

#include "accounting/budget_book.h"
#include "storage/directory.h"
#include "tollgate/config.h"
#include "tollgate/middleware.h"
#include "tollgate/pricing.h"

namespace tollgate {

class BudgetMiddleware final : public Middleware {
 public:
  BudgetMiddleware(std::shared_ptr<const Config> config, std::shared_ptr<const PriceTable> prices,
                   std::shared_ptr<BudgetBook> book, std::shared_ptr<const DirectoryHolder> directory)
      : config_(std::move(config)), prices_(std::move(prices)), book_(std::move(book)), directory_(std::move(directory)) {}
  std::string_view name() const override { return "budget"; }
  boost::asio::awaitable<Decision> on_request(RequestContext& ctx) override;
  void on_complete(const RequestContext& ctx) override;

  // Worst-case cost in USD of ctx's request (exposed for tests). Sets
  // *inject_max_tokens when the output limit had to be chosen by the gateway.
  double worst_case_cost(const RequestContext& ctx, std::optional<int64_t>* inject_max_tokens) const;

 private:
  std::shared_ptr<const Config> config_;
  std::shared_ptr<const PriceTable> prices_;
  std::shared_ptr<BudgetBook> book_;
  std::shared_ptr<const DirectoryHolder> directory_;
};

// The budget scopes of a request's key, team, user and end user, with their
// settings from the Directory (the end user falls back to the config's
// default end-user budget). Ids that are empty are left out. A key minted by
// another key (created_by) also gets the scopes of that key, its team and its
// user, and so on up the chain (Directory::ancestors), after its own: every
// key drawing on a parent's budget reserves against it, so minting many keys
// cannot multiply what the parent may spend. Each scope's stored spend
// includes what keys drawing on it have spent (Directory::drawn_spend).
std::vector<BudgetScope> budget_scopes(const Config& config, const Directory& dir, const std::string& key_id,
                                       const std::string& team_id, const std::string& user_id,
                                       const std::string& end_user);

}  // namespace tollgate
