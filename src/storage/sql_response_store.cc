#include "storage/sql_response_store.h"

#include <algorithm>

#include "storage/response_records.h"

namespace tollgate::storage {
namespace {

int64_t micros(TimePoint t) { return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count(); }
TimePoint from_micros(const SqlCell& c) {
  return TimePoint(std::chrono::duration_cast<SystemClock::duration>(std::chrono::microseconds(c ? std::stoll(*c) : 0)));
}
std::string text(const SqlCell& c) { return c.value_or(""); }

// Rows per multi-row INSERT of items (5 parameters each).
constexpr std::size_t kItemChunk = 32;

}  // namespace

SqlResponseStore SqlResponseStore::of(Store& store) {
  auto* sql = dynamic_cast<SqlStore*>(&store);
  if (!sql) throw StoreError(StoreError::Kind::internal, "stored responses need a SQL store");
  return SqlResponseStore(*sql);
}

void SqlResponseStore::put(const StoredResponse& r) {
  const auto split = check_response(r);
  struct Row {
    const ItemRecord* item;
    int64_t output;
  };
  std::vector<Row> rows;
  for (const auto& item : split.input) rows.push_back({&item, 0});
  for (const auto& item : split.output) rows.push_back({&item, 1});
  store_.transaction(SqlStore::TxMode::write, [&] {
    // Items go with their response (ON DELETE CASCADE).
    store_.exec("DELETE FROM stored_responses WHERE response_id = $1", {r.id});
    store_.exec(
        "INSERT INTO stored_responses (response_id, owner, created_at_us, expires_at_us, model, previous_response_id, "
        "response_json) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        {r.id, r.owner, micros(r.created_at), micros(r.expires_at), r.model, r.previous_response_id, r.response_json});
    for (std::size_t start = 0; start < rows.size(); start += kItemChunk) {
      const std::size_t n = std::min(kItemChunk, rows.size() - start);
      std::string sql = "INSERT INTO stored_response_items (response_id, position, is_output, item_id, item_json) VALUES ";
      std::vector<SqlParam> params;
      params.reserve(n * 5);
      for (std::size_t i = 0; i < n; ++i) {
        const int base = static_cast<int>(i * 5);
        if (i) sql += ", ";
        sql += "($" + std::to_string(base + 1) + ", $" + std::to_string(base + 2) + ", $" + std::to_string(base + 3) +
               ", $" + std::to_string(base + 4) + ", $" + std::to_string(base + 5) + ")";
        const Row& row = rows[start + i];
        params.emplace_back(r.id);
        params.emplace_back(static_cast<int64_t>(start + i));
        params.emplace_back(row.output);
        params.emplace_back(row.item->id);
        params.emplace_back(row.item->json);
      }
      store_.exec(sql, params);
    }
  });
}

std::optional<StoredResponse> SqlResponseStore::head(const std::string& id, const std::string& owner, TimePoint now) {
  auto res = store_.exec(
      "SELECT created_at_us, expires_at_us, model, previous_response_id, response_json FROM stored_responses "
      "WHERE response_id = $1 AND owner = $2 AND expires_at_us > $3",
      {id, owner, micros(now)});
  if (res.rows.empty()) return std::nullopt;
  const auto& row = res.rows.front();
  StoredResponse r;
  r.id = id;
  r.owner = owner;
  r.created_at = from_micros(row[0]);
  r.expires_at = from_micros(row[1]);
  r.model = text(row[2]);
  r.previous_response_id = text(row[3]);
  r.response_json = text(row[4]);
  return r;
}

SqlResponseStore::Items SqlResponseStore::load_items(const std::string& id, bool input_only) {
  auto res = store_.exec(std::string("SELECT is_output, item_id, item_json FROM stored_response_items WHERE response_id = $1") +
                             (input_only ? " AND is_output = 0" : "") + " ORDER BY position",
                         {id});
  Items items;
  for (const auto& row : res.rows) {
    (text(row[0]) == "0" ? items.input : items.output).push_back({text(row[1]), text(row[2])});
  }
  return items;
}

std::optional<StoredResponse> SqlResponseStore::get(const std::string& id, const std::string& owner, TimePoint now) {
  if (!valid_response_id(id)) return std::nullopt;
  std::optional<StoredResponse> out;
  store_.transaction(SqlStore::TxMode::snapshot, [&] {
    out = head(id, owner, now);
    if (!out) return;
    auto items = load_items(id, false);
    out->input_json = join_items(items.input);
    out->output_json = join_items(items.output);
  });
  return out;
}

bool SqlResponseStore::remove(const std::string& id, const std::string& owner, TimePoint now) {
  if (!valid_response_id(id)) return false;
  bool removed = false;
  store_.transaction(SqlStore::TxMode::write, [&] {
    removed = store_.exec("DELETE FROM stored_responses WHERE response_id = $1 AND owner = $2 AND expires_at_us > $3",
                          {id, owner, micros(now)})
                  .affected > 0;
  });
  return removed;
}

std::optional<ItemPage> SqlResponseStore::input_items(const std::string& id, const std::string& owner,
                                                      const ItemQuery& query, TimePoint now) {
  if (!valid_response_id(id)) return std::nullopt;
  std::optional<ItemPage> out;
  store_.transaction(SqlStore::TxMode::snapshot, [&] {
    out.reset();
    if (!head(id, owner, now)) return;
    auto items = load_items(id, true);
    out = page_items(items.input, query);
  });
  return out;
}

std::optional<std::string> SqlResponseStore::find_item(const std::string& item_id, const std::string& owner,
                                                       TimePoint now) {
  if (!valid_item_id(item_id)) return std::nullopt;
  auto res = store_.exec(
      "SELECT i.item_json FROM stored_response_items i JOIN stored_responses r ON r.response_id = i.response_id "
      "WHERE i.item_id = $1 AND r.owner = $2 AND r.expires_at_us > $3 "
      "ORDER BY r.created_at_us DESC, i.position DESC LIMIT 1",
      {item_id, owner, micros(now)});
  if (res.rows.empty()) return std::nullopt;
  return text(res.rows.front()[0]);
}

std::optional<Conversation> SqlResponseStore::conversation(const std::string& previous_response_id,
                                                           const std::string& owner, int max_depth, TimePoint now) {
  if (!valid_response_id(previous_response_id)) return std::nullopt;
  std::optional<Conversation> out;
  store_.transaction(SqlStore::TxMode::snapshot, [&] {
    out.reset();
    std::vector<std::string> chain;
    Conversation c;
    std::string next = previous_response_id;
    while (!next.empty()) {
      if (static_cast<int>(chain.size()) >= std::max(1, max_depth)) {
        c.truncated = true;
        break;
      }
      auto h = head(next, owner, now);
      if (!h) {
        if (chain.empty()) return;
        c.truncated = true;
        break;
      }
      chain.push_back(next);
      next = h->previous_response_id;
    }
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      c.turns.push_back(*it);
      auto items = load_items(*it, false);
      for (auto& item : items.input) c.items.push_back(std::move(item.json));
      for (auto& item : items.output) c.items.push_back(std::move(item.json));
    }
    out = std::move(c);
  });
  return out;
}

int64_t SqlResponseStore::purge_expired(TimePoint now) {
  // In batches, each its own transaction, so a large backlog never holds
  // locks (or the maintenance thread) for long at a time.
  constexpr int64_t kBatch = 1000;
  int64_t total = 0;
  for (;;) {
    int64_t n = 0;
    store_.transaction(SqlStore::TxMode::write, [&] {
      n = store_.exec("DELETE FROM stored_responses WHERE response_id IN (SELECT response_id FROM stored_responses "
                      "WHERE expires_at_us <= $1 LIMIT " + std::to_string(kBatch) + ")",
                      {micros(now)})
              .affected;
    });
    total += n;
    if (n < kBatch) return total;
  }
}

}  // namespace tollgate::storage
