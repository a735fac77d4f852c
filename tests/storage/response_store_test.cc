// The ResponseStore contract (tollgate/response_store.h), run against the
// in-memory store, SQLite and PostgreSQL ($TOLLGATE_TEST_PG_URL, a fresh
// schema per test). Time is passed in: no test sleeps.
#include <gtest/gtest.h>

#include <memory>

#include <nlohmann/json.hpp>

#include "storage/memory_response_store.h"
#include "storage/response_records.h"
#include "storage/sql_response_store.h"
#include "storage/store_fixture.h"
#include "tollgate/response_store.h"

namespace tollgate::testing {
namespace {

using nlohmann::json;
using std::chrono::hours;
using std::chrono::seconds;

const TimePoint t0 = utc(2026, 12, 1, 10, 0, 0, 123456);

json message(const std::string& id, const std::string& role, const std::string& text) {
  return {{"id", id}, {"type", "message"}, {"role", role},
          {"content", json::array({{{"type", role == "assistant" ? "output_text" : "input_text"}, {"text", text}}})}};
}

StoredResponse response(const std::string& id, const std::string& owner, const json& input, const json& output,
                        const std::string& previous = "", TimePoint created = t0) {
  StoredResponse r;
  r.id = id;
  r.owner = owner;
  r.created_at = created;
  r.expires_at = created + hours(24 * 30);
  r.model = "chat";
  r.previous_response_id = previous;
  r.input_json = input.dump();
  r.output_json = output.dump();
  r.response_json = json{{"id", id}, {"object", "response"}, {"model", "chat"}, {"output", output}}.dump();
  return r;
}

std::vector<std::string> ids_of(const std::vector<std::string>& items) {
  std::vector<std::string> out;
  for (const auto& i : items) out.push_back(json::parse(i).at("id"));
  return out;
}

class ResponseStoreTest : public StoreTest {
 protected:
  void SetUp() override {
    if (GetParam() == "memory") {
      memory_ = std::make_unique<storage::MemoryResponseStore>(64 << 20);
      rs = memory_.get();
      return;
    }
    StoreTest::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    sql_ = std::make_unique<storage::SqlResponseStore>(storage::SqlResponseStore::of(*store));
    rs = sql_.get();
  }
  void TearDown() override {
    sql_.reset();
    if (GetParam() != "memory") StoreTest::TearDown();
  }

  ResponseStore* rs = nullptr;
  std::unique_ptr<storage::MemoryResponseStore> memory_;
  std::unique_ptr<storage::SqlResponseStore> sql_;
};

TEST_P(ResponseStoreTest, PutGetRemove) {
  const auto input = json::array({message("msg_in1", "user", "Hello"), message("msg_in2", "user", "Again")});
  const auto output = json::array({message("msg_out1", "assistant", "Hi!"),
                                   {{"id", "fc_1"}, {"type", "function_call"}, {"name", "ls"}, {"arguments", "{}"},
                                    {"call_id", "call_1"}}});
  const auto r = response("resp_abc", "team:t1", input, output);
  rs->put(r);

  auto got = rs->get("resp_abc", "team:t1", t0 + seconds(1));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->id, "resp_abc");
  EXPECT_EQ(got->owner, "team:t1");
  EXPECT_EQ(got->model, "chat");
  EXPECT_EQ(got->previous_response_id, "");
  EXPECT_EQ(got->created_at, r.created_at);
  EXPECT_EQ(got->expires_at, r.expires_at);
  EXPECT_EQ(json::parse(got->input_json), input);
  EXPECT_EQ(json::parse(got->output_json), output);
  EXPECT_EQ(got->response_json, r.response_json) << "the Response object comes back byte for byte";

  EXPECT_TRUE(rs->remove("resp_abc", "team:t1", t0 + seconds(2)));
  EXPECT_FALSE(rs->get("resp_abc", "team:t1", t0 + seconds(2)));
  EXPECT_FALSE(rs->find_item("msg_out1", "team:t1", t0 + seconds(2))) << "items go with their response";
  EXPECT_FALSE(rs->remove("resp_abc", "team:t1", t0 + seconds(2)));
}

TEST_P(ResponseStoreTest, PutReplacesTheResponseAndItsItems) {
  rs->put(response("resp_1", "key:k1", json::array({message("msg_a", "user", "q")}),
                   json::array({message("msg_old", "assistant", "old")})));
  rs->put(response("resp_1", "key:k1", json::array({message("msg_a", "user", "q")}),
                   json::array({message("msg_new", "assistant", "new")})));
  auto got = rs->get("resp_1", "key:k1", t0);
  ASSERT_TRUE(got);
  EXPECT_EQ(ids_of({json::parse(got->output_json)[0].dump()}), std::vector<std::string>{"msg_new"});
  EXPECT_FALSE(rs->find_item("msg_old", "key:k1", t0));
  EXPECT_TRUE(rs->find_item("msg_new", "key:k1", t0));
}

TEST_P(ResponseStoreTest, AnotherOwnerFindsNothing) {
  rs->put(response("resp_team", "team:a", json::array({message("msg_q", "user", "secret question")}),
                   json::array({message("msg_r", "assistant", "secret answer")})));
  rs->put(response("resp_team2", "team:a", json::array({message("msg_q2", "user", "next")}), json::array(), "resp_team"));
  for (const std::string other : {"team:b", "key:k1", "static:team-b", "master", "anonymous", "team:", ""}) {
    SCOPED_TRACE(other);
    EXPECT_FALSE(rs->get("resp_team", other, t0));
    EXPECT_FALSE(rs->input_items("resp_team", other, {}, t0));
    EXPECT_FALSE(rs->find_item("msg_q", other, t0));
    EXPECT_FALSE(rs->find_item("msg_r", other, t0));
    EXPECT_FALSE(rs->conversation("resp_team2", other, 10, t0));
    EXPECT_FALSE(rs->remove("resp_team", other, t0));
  }
  EXPECT_TRUE(rs->get("resp_team", "team:a", t0)) << "another owner's delete removed nothing";
  EXPECT_EQ(json::parse(*rs->find_item("msg_r", "team:a", t0))["content"][0]["text"], "secret answer");
}

TEST_P(ResponseStoreTest, ConversationRebuildsThreeTurnsOldestFirst) {
  rs->put(response("resp_t1", "team:a", json::array({message("in_1", "user", "one")}),
                   json::array({message("out_1", "assistant", "1")}), "", t0));
  rs->put(response("resp_t2", "team:a",
                   json::array({{{"id", "fco_2"}, {"type", "function_call_output"}, {"call_id", "c"}, {"output", "x"}}}),
                   json::array({{{"id", "rs_2"}, {"type", "reasoning"}, {"summary", json::array()}},
                                message("out_2", "assistant", "2")}),
                   "resp_t1", t0 + seconds(1)));
  rs->put(response("resp_t3", "team:a", json::array({message("in_3", "user", "three")}),
                   json::array({message("out_3", "assistant", "3")}), "resp_t2", t0 + seconds(2)));

  auto c = rs->conversation("resp_t3", "team:a", 100, t0 + seconds(3));
  ASSERT_TRUE(c);
  EXPECT_EQ(ids_of(c->items), (std::vector<std::string>{"in_1", "out_1", "fco_2", "rs_2", "out_2", "in_3", "out_3"}));
  EXPECT_EQ(c->turns, (std::vector<std::string>{"resp_t1", "resp_t2", "resp_t3"}));
  EXPECT_FALSE(c->truncated);

  auto shallow = rs->conversation("resp_t3", "team:a", 2, t0 + seconds(3));
  ASSERT_TRUE(shallow);
  EXPECT_EQ(shallow->turns, (std::vector<std::string>{"resp_t2", "resp_t3"}));
  EXPECT_EQ(ids_of(shallow->items), (std::vector<std::string>{"fco_2", "rs_2", "out_2", "in_3", "out_3"}));
  EXPECT_TRUE(shallow->truncated);

  auto middle = rs->conversation("resp_t2", "team:a", 100, t0 + seconds(3));
  ASSERT_TRUE(middle);
  EXPECT_EQ(middle->turns, (std::vector<std::string>{"resp_t1", "resp_t2"}));

  ASSERT_TRUE(rs->remove("resp_t1", "team:a", t0 + seconds(3)));
  auto broken = rs->conversation("resp_t3", "team:a", 100, t0 + seconds(3));
  ASSERT_TRUE(broken);
  EXPECT_EQ(broken->turns, (std::vector<std::string>{"resp_t2", "resp_t3"}));
  EXPECT_TRUE(broken->truncated) << "a deleted older turn is reported, not silently skipped";

  EXPECT_FALSE(rs->conversation("resp_t1", "team:a", 100, t0 + seconds(3)));
  EXPECT_FALSE(rs->conversation("resp_none", "team:a", 100, t0 + seconds(3)));
}

TEST_P(ResponseStoreTest, ConversationOfACycleStopsAtMaxDepth) {
  // Only a replacing put can make one; the walk must still end.
  rs->put(response("resp_x", "master", json::array({message("in_x", "user", "x")}), json::array(), "resp_y"));
  rs->put(response("resp_y", "master", json::array({message("in_y", "user", "y")}), json::array(), "resp_x"));
  auto c = rs->conversation("resp_x", "master", 5, t0);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->turns.size(), 5u);
  EXPECT_TRUE(c->truncated);
}

TEST_P(ResponseStoreTest, InputItemsPageLikeOpenAI) {
  json input = json::array();
  for (int i = 0; i < 5; ++i) input.push_back(message("item_" + std::to_string(i), "user", "m" + std::to_string(i)));
  rs->put(response("resp_p", "key:k", input, json::array({message("msg_out", "assistant", "o")})));

  auto all = rs->input_items("resp_p", "key:k", {}, t0);
  ASSERT_TRUE(all);
  EXPECT_EQ(ids_of(all->data), (std::vector<std::string>{"item_4", "item_3", "item_2", "item_1", "item_0"}))
      << "desc by default; output items are not input items";
  EXPECT_EQ(all->first_id, "item_4");
  EXPECT_EQ(all->last_id, "item_0");
  EXPECT_FALSE(all->has_more);

  ItemQuery q;
  q.order = ItemOrder::asc;
  q.limit = 2;
  auto p1 = rs->input_items("resp_p", "key:k", q, t0);
  ASSERT_TRUE(p1);
  EXPECT_EQ(ids_of(p1->data), (std::vector<std::string>{"item_0", "item_1"}));
  EXPECT_TRUE(p1->has_more);
  q.after = p1->last_id;
  auto p2 = rs->input_items("resp_p", "key:k", q, t0);
  EXPECT_EQ(ids_of(p2->data), (std::vector<std::string>{"item_2", "item_3"}));
  EXPECT_EQ(p2->first_id, "item_2");
  EXPECT_TRUE(p2->has_more);
  q.after = p2->last_id;
  auto p3 = rs->input_items("resp_p", "key:k", q, t0);
  EXPECT_EQ(ids_of(p3->data), (std::vector<std::string>{"item_4"}));
  EXPECT_FALSE(p3->has_more);

  ItemQuery d;
  d.after = "item_2";
  auto tail = rs->input_items("resp_p", "key:k", d, t0);
  EXPECT_EQ(ids_of(tail->data), (std::vector<std::string>{"item_1", "item_0"}));

  ItemQuery unknown;
  unknown.after = "item_99";
  auto none = rs->input_items("resp_p", "key:k", unknown, t0);
  ASSERT_TRUE(none) << "the response exists; the page is empty";
  EXPECT_TRUE(none->data.empty());
  EXPECT_EQ(none->first_id, "");
  EXPECT_FALSE(none->has_more);
}

TEST_P(ResponseStoreTest, ExpiredResponsesAreInvisibleAtOnceAndPurgedLater) {
  auto r = response("resp_old", "master", json::array({message("msg_o", "user", "o")}),
                    json::array({message("msg_oo", "assistant", "oo")}));
  r.expires_at = t0 + seconds(10);
  rs->put(r);
  auto fresh = response("resp_new", "master", json::array({message("msg_n", "user", "n")}), json::array(), "resp_old");
  fresh.expires_at = t0 + hours(1);
  rs->put(fresh);

  const auto before = t0 + seconds(9);
  EXPECT_TRUE(rs->get("resp_old", "master", before));
  EXPECT_TRUE(rs->find_item("msg_oo", "master", before));

  const auto at = t0 + seconds(10);
  EXPECT_FALSE(rs->get("resp_old", "master", at));
  EXPECT_FALSE(rs->input_items("resp_old", "master", {}, at));
  EXPECT_FALSE(rs->find_item("msg_oo", "master", at));
  EXPECT_FALSE(rs->remove("resp_old", "master", at));
  auto c = rs->conversation("resp_new", "master", 10, at);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->turns, std::vector<std::string>{"resp_new"});
  EXPECT_TRUE(c->truncated);

  EXPECT_EQ(rs->purge_expired(before), 0);
  EXPECT_EQ(rs->purge_expired(at), 1);
  EXPECT_EQ(rs->purge_expired(at), 0);
  EXPECT_FALSE(rs->get("resp_old", "master", before)) << "purged for good";
  EXPECT_TRUE(rs->get("resp_new", "master", at));
}

TEST_P(ResponseStoreTest, HostileIdsAreNotFoundAndBadRecordsRefused) {
  rs->put(response("resp_ok", "master", json::array({message("msg_ok", "user", "q")}), json::array()));
  for (const std::string& id : {std::string("'; DROP TABLE stored_responses; --"), std::string(129, 'a'), std::string(),
                               std::string("resp_ok\0x", 9), std::string("resp_%"), std::string("resp_ok "),
                               std::string("r\xc3\xa9sp"), std::string("../resp_ok")}) {
    SCOPED_TRACE(id);
    EXPECT_FALSE(rs->get(id, "master", t0));
    EXPECT_FALSE(rs->remove(id, "master", t0));
    EXPECT_FALSE(rs->input_items(id, "master", {}, t0));
    EXPECT_FALSE(rs->find_item(id, "master", t0));
    EXPECT_FALSE(rs->conversation(id, "master", 10, t0));
  }
  EXPECT_TRUE(rs->get("resp_ok", "master", t0));

  auto bad_id = response("resp bad", "master", json::array(), json::array());
  EXPECT_THROW(rs->put(bad_id), StoreError);
  auto no_item_id = response("resp_x", "master", json::array({{{"type", "message"}, {"role", "user"}}}), json::array());
  EXPECT_THROW(rs->put(no_item_id), StoreError);
  auto not_array = response("resp_x", "master", json::object(), json::array());
  EXPECT_THROW(rs->put(not_array), StoreError);
  auto no_owner = response("resp_x", "", json::array(), json::array());
  EXPECT_THROW(rs->put(no_owner), StoreError);
  EXPECT_FALSE(rs->get("resp_x", "master", t0));

  // The longest valid id works.
  const std::string longest = "resp_" + std::string(123, 'z');
  rs->put(response(longest, "master", json::array(), json::array()));
  EXPECT_TRUE(rs->get(longest, "master", t0));
}

TEST_P(ResponseStoreTest, FindItemPrefersTheNewestResponse) {
  // A client that resends a function call it got back repeats its id.
  rs->put(response("resp_a", "key:k", json::array(),
                   json::array({{{"id", "fc_same"}, {"type", "function_call"}, {"arguments", "old"}}}), "", t0));
  rs->put(response("resp_b", "key:k",
                   json::array({{{"id", "fc_same"}, {"type", "function_call"}, {"arguments", "new"}}}), json::array(),
                   "resp_a", t0 + seconds(5)));
  auto item = rs->find_item("fc_same", "key:k", t0 + seconds(6));
  ASSERT_TRUE(item);
  EXPECT_EQ(json::parse(*item)["arguments"], "new");
}

INSTANTIATE_TEST_SUITE_P(Backends, ResponseStoreTest, ::testing::Values("memory", "sqlite", "postgresql"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

// ---- the in-memory store's bound ----

TEST(MemoryResponseStoreTest, EvictsTheLeastRecentlyUsedByBytes) {
  const auto a = response("resp_a", "master", json::array({message("msg_a", "user", std::string(400, 'a'))}), json::array());
  const auto b = response("resp_b", "master", json::array({message("msg_b", "user", std::string(400, 'b'))}), json::array());
  const auto c = response("resp_c", "master", json::array({message("msg_c", "user", std::string(400, 'c'))}), json::array());
  storage::MemoryResponseStore store(a.size_bytes() + b.size_bytes() + 10);
  store.put(a);
  store.put(b);
  ASSERT_TRUE(store.get("resp_a", "master", t0));  // a is now the most recently used
  store.put(c);
  EXPECT_TRUE(store.get("resp_a", "master", t0));
  EXPECT_FALSE(store.get("resp_b", "master", t0)) << "b was the least recently used";
  EXPECT_FALSE(store.find_item("msg_b", "master", t0)) << "its items went with it";
  EXPECT_TRUE(store.get("resp_c", "master", t0));
  EXPECT_EQ(store.count(), 2u);
  EXPECT_LE(store.bytes(), a.size_bytes() + b.size_bytes() + 10);

  // Too large on its own: not kept, and nothing evicted for it.
  const auto huge = response("resp_huge", "master", json::array({message("msg_h", "user", std::string(5000, 'h'))}),
                             json::array());
  store.put(huge);
  EXPECT_FALSE(store.get("resp_huge", "master", t0));
  EXPECT_EQ(store.count(), 2u);

  ASSERT_TRUE(store.remove("resp_a", "master", t0));
  ASSERT_TRUE(store.remove("resp_c", "master", t0));
  EXPECT_EQ(store.bytes(), 0u);
}

// ---- input normalisation ----

TEST(NormalizeInputItemsTest, GivesEveryItemAnId) {
  auto text = normalize_input_items(R"("Tell me a joke")");
  ASSERT_TRUE(text);
  const json items = json::parse(*text);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["type"], "message");
  EXPECT_EQ(items[0]["role"], "user");
  EXPECT_EQ(items[0]["content"], json::parse(R"([{"type":"input_text","text":"Tell me a joke"}])"));
  EXPECT_TRUE(items[0]["id"].get<std::string>().starts_with("msg_"));
  EXPECT_TRUE(valid_item_id(items[0]["id"].get<std::string>()));

  auto list = normalize_input_items(R"([
    {"role":"user","content":"hi"},
    {"role":"assistant","content":"hello"},
    {"type":"function_call","call_id":"c1","name":"ls","arguments":"{}"},
    {"type":"function_call_output","call_id":"c1","output":"a.txt"},
    {"type":"reasoning","summary":[]},
    {"type":"message","id":"msg_kept","role":"user","content":[{"type":"input_text","text":"x"}]},
    {"type":"web_search_call","id":"bad id!"}
  ])");
  ASSERT_TRUE(list);
  const json l = json::parse(*list);
  ASSERT_EQ(l.size(), 7u);
  EXPECT_EQ(l[0]["type"], "message");
  EXPECT_EQ(l[0]["content"][0]["type"], "input_text");
  EXPECT_EQ(l[1]["content"][0]["type"], "output_text");
  EXPECT_TRUE(l[2]["id"].get<std::string>().starts_with("fc_"));
  EXPECT_TRUE(l[3]["id"].get<std::string>().starts_with("fco_"));
  EXPECT_TRUE(l[4]["id"].get<std::string>().starts_with("rs_"));
  EXPECT_EQ(l[5]["id"], "msg_kept");
  EXPECT_TRUE(l[6]["id"].get<std::string>().starts_with("item_"));
  EXPECT_NE(l[0]["id"], l[1]["id"]);

  EXPECT_FALSE(normalize_input_items("42"));
  EXPECT_FALSE(normalize_input_items("[1, 2]"));
  EXPECT_FALSE(normalize_input_items("{"));
}

}  // namespace
}  // namespace tollgate::testing
