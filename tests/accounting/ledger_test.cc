#include "accounting/ledger.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string_view>
#include <thread>

#include "accounting/fake_store.h"
#include "accounting/spend_row_codec.h"
#include "accounting/spend_row_testing.h"
#include "accounting/spool_format1.h"

namespace tollgate {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::expect_same_row;
using testing::FakeDb;
using testing::fake_store_factory;
using testing::full_row;
using testing::ScratchDir;

constexpr auto kWait = 20s;  // upper bound only; tests finish far sooner

LedgerOptions test_options(const ScratchDir& dir) {
  LedgerOptions o;
  o.spool_dir = dir.str();
  o.batch_rows = 50;
  o.commit_interval = 1ms;
  o.retry_initial = 1ms;
  o.retry_max = 4ms;
  o.final_ship_timeout = 2s;
  return o;
}

size_t segment_count(const fs::path& dir) {
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.path().extension() == ".spool";
  return n;
}

void expect_each_once(const FakeDb& db, int n) {
  auto deliveries = db.deliveries();
  EXPECT_EQ(db.spend_count() + db.rejection_count(), static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) EXPECT_TRUE(db.spend().count("req-" + std::to_string(i)) == 1) << i;
}

TEST(Ledger, EveryFieldOfBothKindsReachesTheStoreAndSurvivesTheSpool) {
  ScratchDir dir;
  std::vector<SpendRow> rows;
  for (int i = 0; i < 6; ++i) rows.push_back(full_row(i, i % 2 ? RowKind::rejection : RowKind::spend));
  {
    Ledger spool_only(test_options(dir), nullptr);
    for (const auto& r : rows) ASSERT_TRUE(spool_only.record(r));
    spool_only.flush();
    EXPECT_EQ(spool_only.stats().spooled, rows.size());
  }
  auto db = std::make_shared<FakeDb>();
  Ledger ledger(test_options(dir), fake_store_factory(db));
  ASSERT_EQ(ledger.recovered_unshipped().size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) expect_same_row(ledger.recovered_unshipped()[i], rows[i]);
  ASSERT_TRUE(ledger.wait_shipped(kWait));
  auto spend = db->spend();
  auto rejections = db->rejections();
  EXPECT_EQ(spend.size(), 3u);
  EXPECT_EQ(rejections.size(), 3u);
  for (const auto& r : rows) expect_same_row((r.kind == RowKind::spend ? spend : rejections).at(r.request_id), r);
}

TEST(Ledger, SpoolWrittenBeforeTheUpgradeShipsEveryRow) {
  // An older gateway stopped with format 1 records unshipped; the new one
  // appends format 2 records behind them. All of them ship, field for field.
  ScratchDir dir;
  {
    Spool old(dir.path(), 64 << 20);
    old.append({testing::format1_spend_record(), "not a spend row", testing::format1_rejection_record()});
  }
  auto db = std::make_shared<FakeDb>();
  Ledger ledger(test_options(dir), fake_store_factory(db));
  ASSERT_EQ(ledger.recovered_unshipped().size(), 2u);  // the bad record is skipped
  expect_same_row(ledger.recovered_unshipped()[0], full_row(1));
  expect_same_row(ledger.recovered_unshipped()[1], full_row(4, RowKind::rejection));
  ASSERT_TRUE(ledger.record(full_row(2)));
  ASSERT_TRUE(ledger.wait_shipped(kWait));
  expect_same_row(db->spend().at("req-1"), full_row(1));
  expect_same_row(db->spend().at("req-2"), full_row(2));
  expect_same_row(db->rejections().at("req-4"), full_row(4, RowKind::rejection));
  auto s = ledger.stats();
  EXPECT_EQ(s.shipped, 3u);
  EXPECT_EQ(s.skipped, 1u);
  EXPECT_EQ(s.pending_rows, 0u);
}

TEST(Ledger, ConcurrentRecordersAllShipExactlyOnce) {
  ScratchDir dir;
  auto db = std::make_shared<FakeDb>();
  LedgerOptions o = test_options(dir);
  o.batch_rows = 500;
  Ledger ledger(o, fake_store_factory(db));
  constexpr int kThreads = 8, kPerThread = 1000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        SpendRow r = full_row(t * kPerThread + i);
        ASSERT_TRUE(ledger.record(std::move(r)));
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(ledger.wait_shipped(kWait));
  const int n = kThreads * kPerThread;
  auto s = ledger.stats();
  EXPECT_EQ(s.recorded, static_cast<uint64_t>(n));
  EXPECT_EQ(s.spooled, static_cast<uint64_t>(n));
  EXPECT_EQ(s.shipped, static_cast<uint64_t>(n));
  EXPECT_EQ(s.duplicates, 0u);
  EXPECT_EQ(s.pending_rows, 0u);
  EXPECT_EQ(s.spool_bytes, 0u);
  EXPECT_FALSE(s.oldest_unshipped.has_value());
  EXPECT_EQ(db->spend_count(), static_cast<size_t>(n));
  for (const auto& [id, count] : db->deliveries()) EXPECT_EQ(count, 1) << id;
  EXPECT_GE(db->commits(), n / 500);
  // Group commit: one fsync covered many rows.
  EXPECT_GE(s.groups, 1u);
  EXPECT_LT(s.groups, static_cast<uint64_t>(n) / 4);
}

TEST(Ledger, FlushMakesRowsDurableWithoutAStore) {
  ScratchDir dir;
  Ledger ledger(test_options(dir), nullptr);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(ledger.record(full_row(i)));
  ledger.flush();
  auto s = ledger.stats();
  EXPECT_EQ(s.recorded, 100u);
  EXPECT_EQ(s.spooled, 100u);
  EXPECT_EQ(s.shipped, 0u);
  EXPECT_EQ(s.pending_rows, 100u);
  EXPECT_GT(s.spool_bytes, 100u * 100);
  EXPECT_FALSE(ledger.wait_shipped(1ms));
}

TEST(Ledger, OutageGrowsTheSpoolThenEveryRowArrivesOnce) {
  ScratchDir dir;
  auto db = std::make_shared<FakeDb>();
  db->set_down(true);
  Ledger ledger(test_options(dir), fake_store_factory(db));
  for (int i = 0; i < 300; ++i) ASSERT_TRUE(ledger.record(full_row(i)));
  ledger.flush();
  ASSERT_TRUE(db->wait_calls(3));  // the shipper keeps retrying
  auto down = ledger.stats();
  EXPECT_GE(down.ship_failures, 2u);
  EXPECT_EQ(down.shipped, 0u);
  EXPECT_EQ(down.pending_rows, 300u);
  EXPECT_GT(down.spool_bytes, 0u);
  EXPECT_NE(down.last_error.find("connection refused"), std::string::npos);
  ASSERT_TRUE(down.oldest_unshipped.has_value());
  EXPECT_EQ(*down.oldest_unshipped, full_row(0).end_time);
  EXPECT_TRUE(ledger.accepting());
  // Recording goes on while the database is down.
  for (int i = 300; i < 600; ++i) ASSERT_TRUE(ledger.record(full_row(i)));
  EXPECT_EQ(db->spend_count(), 0u);

  db->set_down(false);
  ASSERT_TRUE(ledger.wait_shipped(kWait));
  expect_each_once(*db, 600);
  for (const auto& [id, count] : db->deliveries()) EXPECT_EQ(count, 1) << id;
  auto up = ledger.stats();
  EXPECT_EQ(up.shipped, 600u);
  EXPECT_EQ(up.duplicates, 0u);
  EXPECT_EQ(up.pending_rows, 0u);
  EXPECT_EQ(up.spool_bytes, 0u);
  EXPECT_FALSE(up.oldest_unshipped.has_value());
}

TEST(Ledger, RestartDuringOutageRecoversAndShipsEveryRowOnce) {
  ScratchDir dir;
  auto db = std::make_shared<FakeDb>();
  db->set_down(true);
  {
    Ledger ledger(test_options(dir), fake_store_factory(db));
    for (int i = 0; i < 250; ++i) ASSERT_TRUE(ledger.record(full_row(i)));
    ASSERT_TRUE(db->wait_calls(1));
    // Destroyed while the store is down: stop()'s final attempt fails too.
  }
  EXPECT_EQ(db->spend_count(), 0u);
  db->set_down(false);
  Ledger ledger(test_options(dir), fake_store_factory(db));
  ASSERT_EQ(ledger.recovered_unshipped().size(), 250u);
  for (int i = 0; i < 250; ++i) EXPECT_EQ(ledger.recovered_unshipped()[i].request_id, "req-" + std::to_string(i));
  EXPECT_EQ(ledger.stats().recovered, 250u);
  ASSERT_TRUE(ledger.record(full_row(250)));
  ASSERT_TRUE(ledger.wait_shipped(kWait));
  expect_each_once(*db, 251);
  auto s = ledger.stats();
  EXPECT_EQ(s.shipped, 251u);
  EXPECT_EQ(s.duplicates, 0u);
  EXPECT_EQ(s.pending_rows, 0u);
}

TEST(Ledger, CrashBetweenCommitAndCursorReshipsAsDuplicates) {
  ScratchDir dir;
  auto db = std::make_shared<FakeDb>();
  {
    Ledger writer(test_options(dir), nullptr);
    for (int i = 0; i < 120; ++i) ASSERT_TRUE(writer.record(full_row(i)));
  }
  // The shipped position as it was before shipping (no cursor yet).
  EXPECT_FALSE(fs::exists(dir.path() / "cursor"));
  {
    Ledger ledger(test_options(dir), fake_store_factory(db));
    ASSERT_TRUE(ledger.wait_shipped(kWait));
  }
  ASSERT_TRUE(fs::exists(dir.path() / "cursor"));
  // The store committed, but the cursor write "never happened".
  fs::remove(dir.path() / "cursor");
  Ledger ledger(test_options(dir), fake_store_factory(db));
  EXPECT_EQ(ledger.recovered_unshipped().size(), 120u);
  ASSERT_TRUE(ledger.wait_shipped(kWait));
  auto s = ledger.stats();
  EXPECT_EQ(s.shipped, 120u);
  EXPECT_EQ(s.duplicates, 120u);
  EXPECT_EQ(s.pending_rows, 0u);
  expect_each_once(*db, 120);
}

TEST(Ledger, LostAcknowledgementIsRetriedAndCountedAsDuplicates) {
  ScratchDir dir;
  auto db = std::make_shared<FakeDb>();
  db->lose_next_ack();
  LedgerOptions o = test_options(dir);
  o.batch_rows = 1000;
  Ledger ledger(o, fake_store_factory(db));
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(ledger.record(full_row(i)));
  ASSERT_TRUE(ledger.wait_shipped(kWait));
  auto s = ledger.stats();
  EXPECT_EQ(s.ship_failures, 1u);
  EXPECT_EQ(s.shipped, 40u);
  EXPECT_GE(s.duplicates, 1u);  // the first batch came back as duplicates
  EXPECT_NE(s.last_error.find("after commit"), std::string::npos);
  expect_each_once(*db, 40);
}

TEST(Ledger, TornTailIsDroppedAndTheRestShips) {
  ScratchDir dir;
  {
    Ledger ledger(test_options(dir), nullptr);
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(ledger.record(full_row(i)));
  }
  fs::path seg;
  for (const auto& e : fs::directory_iterator(dir.path()))
    if (e.path().extension() == ".spool") seg = e.path();
  const auto good_size = fs::file_size(seg);
  {
    // A crash mid-append: a frame header and part of its payload.
    std::ofstream out(seg, std::ios::binary | std::ios::app);
    const char header[8] = {static_cast<char>(0xf0), 1, 0, 0, 9, 9, 9, 9};
    out.write(header, 8);
    out << "\x8f\xa1v\x01half a record";
  }
  auto db = std::make_shared<FakeDb>();
  Ledger ledger(test_options(dir), fake_store_factory(db));
  EXPECT_EQ(fs::file_size(seg), good_size);
  ASSERT_EQ(ledger.recovered_unshipped().size(), 10u);
  ASSERT_TRUE(ledger.record(full_row(10)));
  ASSERT_TRUE(ledger.wait_shipped(kWait));
  expect_each_once(*db, 11);
  EXPECT_EQ(ledger.stats().skipped, 0u);
}

TEST(Ledger, RefusesAtTheBoundAndAcceptsAgainOnceShipped) {
  ScratchDir dir;
  auto db = std::make_shared<FakeDb>();
  db->set_down(true);
  LedgerOptions o = test_options(dir);
  o.max_spool_bytes = 20 * 1024;
  Ledger ledger(o, fake_store_factory(db));
  int accepted = 0;
  int admitting_until = -1;  // new requests stop being admitted before rows are refused
  while (ledger.record(full_row(accepted))) {
    ++accepted;
    if (admitting_until < 0 && !ledger.accepting()) admitting_until = accepted;
    ASSERT_LT(accepted, 10000);
  }
  EXPECT_GT(accepted, 10);
  EXPECT_GT(admitting_until, 0);
  EXPECT_LT(admitting_until, accepted);  // the last tenth is headroom for requests in flight
  EXPECT_FALSE(ledger.accepting());
  auto full = ledger.stats();
  EXPECT_EQ(full.refused, 1u);
  EXPECT_GE(full.spool_bytes, o.max_spool_bytes);
  EXPECT_EQ(full.recorded, static_cast<uint64_t>(accepted));
  EXPECT_FALSE(ledger.record(full_row(99999)));

  db->set_down(false);
  ASSERT_TRUE(ledger.wait_shipped(kWait));
  EXPECT_TRUE(ledger.accepting());
  ASSERT_TRUE(ledger.record(full_row(accepted)));
  ASSERT_TRUE(ledger.wait_shipped(kWait));
  expect_each_once(*db, accepted + 1);
  EXPECT_EQ(db->spend().count("req-99999"), 0u);
}

TEST(Ledger, ShippedSegmentsAreDeleted) {
  ScratchDir dir;
  LedgerOptions o = test_options(dir);
  o.segment_bytes = 2048;
  {
    Ledger writer(o, nullptr);
    for (int i = 0; i < 200; ++i) {
      ASSERT_TRUE(writer.record(full_row(i)));
      if (i % 10 == 9) writer.flush();  // groups of 10: several segments
    }
  }
  EXPECT_GE(segment_count(dir.path()), 5u);
  auto db = std::make_shared<FakeDb>();
  Ledger ledger(o, fake_store_factory(db));
  ASSERT_TRUE(ledger.wait_shipped(kWait));
  expect_each_once(*db, 200);
  EXPECT_LE(segment_count(dir.path()), 1u);  // only the active segment is left
  EXPECT_EQ(ledger.stats().spool_bytes, 0u);
}

TEST(Ledger, ATrickleOfRowsShipsInBatchesNotATransactionPerRow) {
  ScratchDir dir;
  auto db = std::make_shared<FakeDb>();
  LedgerOptions o = test_options(dir);
  o.batch_rows = 3;
  o.ship_interval = 1h;  // longer than the test: only a full batch, a waiter or stop() ends the wait
  Ledger ledger(o, fake_store_factory(db));
  // The first row after a quiet spell ships at once.
  ASSERT_TRUE(ledger.record(full_row(0)));
  ASSERT_TRUE(ledger.wait_shipped(kWait));
  EXPECT_EQ(db->commits(), 1);
  // The next two are durable but wait for a third.
  ASSERT_TRUE(ledger.record(full_row(1)));
  ASSERT_TRUE(ledger.record(full_row(2)));
  ledger.flush();
  ASSERT_TRUE(ledger.record(full_row(3)));
  ASSERT_TRUE(db->wait_calls(2));
  EXPECT_EQ(db->commits(), 2);
  EXPECT_EQ(db->spend_count(), 4u);  // rows 1 to 3 went in one transaction
  // Someone waiting for the rows ends the wait (a linger of an hour would
  // time this out), and so does stop().
  ASSERT_TRUE(ledger.record(full_row(4)));
  ASSERT_TRUE(ledger.wait_shipped(kWait));
  EXPECT_EQ(db->commits(), 3);
  ASSERT_TRUE(ledger.record(full_row(5)));
  ledger.stop();
  expect_each_once(*db, 6);
  EXPECT_EQ(db->commits(), 4);
}

TEST(Ledger, StopIsIdempotentAndRefusesLaterRows) {
  ScratchDir dir;
  auto db = std::make_shared<FakeDb>();
  Ledger ledger(test_options(dir), fake_store_factory(db));
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(ledger.record(full_row(i)));
  ledger.stop();
  ledger.stop();
  // stop() wrote everything and its final ship attempt delivered it.
  expect_each_once(*db, 30);
  EXPECT_FALSE(ledger.record(full_row(30)));
  EXPECT_FALSE(ledger.accepting());
  auto s = ledger.stats();
  EXPECT_EQ(s.shipped, 30u);
  EXPECT_EQ(s.refused, 1u);
}

TEST(Ledger, StopWakesTheShipperFromALongBackoff) {
  ScratchDir dir;
  auto db = std::make_shared<FakeDb>();
  db->set_down(true);
  LedgerOptions o = test_options(dir);
  o.retry_initial = 1h;
  o.retry_max = 1h;
  auto start = std::chrono::steady_clock::now();
  {
    Ledger ledger(o, fake_store_factory(db));
    ASSERT_TRUE(ledger.record(full_row(1)));
    ASSERT_TRUE(db->wait_calls(1));
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 30s);
  // The failure, then stop()'s one final attempt (none more when the first
  // failure itself landed after stop() began).
  EXPECT_LE(db->calls(), 2);
}

// A spool record's frame as every release has written it: [u32 length]
// [u32 crc32 (IEEE 802.3, as zlib)][payload], little-endian. The CRC is
// taken bit by bit here, independently of Spool's table-driven crc32.
std::string old_frame(std::string_view payload) {
  uint32_t crc = 0xffffffffu;
  for (unsigned char c : payload) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  crc = ~crc;
  std::string out;
  for (uint32_t v : {static_cast<uint32_t>(payload.size()), crc})
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
  out.append(payload);
  return out;
}

TEST(Ledger, SpoolDirectoryOfAnOlderGatewayRecovers) {
  // The directory exactly as a format 1 gateway left it: one segment, no
  // cursor (nothing shipped yet), two records and a torn third. Written
  // byte for byte here, so that the reader is checked against the on-disk
  // format itself, not against its own writer.
  ScratchDir dir;
  fs::create_directories(dir.path());
  const std::string torn = old_frame(testing::format1_spend_record()).substr(0, 40);
  {
    std::ofstream out(dir.path() / "segment-00000000000000000001.spool", std::ios::binary);
    const std::string bytes =
        old_frame(testing::format1_spend_record()) + old_frame(testing::format1_rejection_record()) + torn;
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  auto db = std::make_shared<FakeDb>();
  Ledger ledger(test_options(dir), fake_store_factory(db));
  ASSERT_EQ(ledger.recovered_unshipped().size(), 2u);
  expect_same_row(ledger.recovered_unshipped()[0], full_row(1));
  expect_same_row(ledger.recovered_unshipped()[1], full_row(4, RowKind::rejection));
  ASSERT_TRUE(ledger.wait_shipped(kWait));
  expect_same_row(db->spend().at("req-1"), full_row(1));
  expect_same_row(db->rejections().at("req-4"), full_row(4, RowKind::rejection));
  // New rows (format 2) go on behind them in the same segment.
  ASSERT_TRUE(ledger.record(full_row(2)));
  ASSERT_TRUE(ledger.wait_shipped(kWait));
  expect_same_row(db->spend().at("req-2"), full_row(2));
  auto s = ledger.stats();
  EXPECT_EQ(s.shipped, 3u);
  EXPECT_EQ(s.skipped, 0u);
  EXPECT_EQ(s.duplicates, 0u);
  EXPECT_EQ(db->spend_count() + db->rejection_count(), 3u);
}

// full_row(i) in format 2 with its last fields (tags, metadata) replaced by
// the given texts, as no encoder writes them.
std::string format2_with(std::string_view tags, std::string_view metadata, std::string cost = "0.5") {
  SpendRow r = full_row(77);
  r.tags.clear();
  r.metadata = nlohmann::json::object();
  r.cost_usd = std::move(cost);
  std::string p = encode_spend_row(r);
  p.resize(p.size() - 6);  // "\x02[]\x02{}"
  p.push_back(static_cast<char>(tags.size()));
  p.append(tags);
  p.push_back(static_cast<char>(metadata.size()));
  p.append(metadata);
  return p;
}

TEST(Ledger, DamagedFormat2RecordsAreSkippedAndEveryGoodRowShips) {
  // Records whose frame checks out but whose payload is not a format 2 row
  // the stores can take (a bug, or bytes damaged before the CRC was taken):
  // each is logged and skipped, as an undecodable record always was; the
  // rows around them ship, each once, and nothing crashes.
  const std::string good = encode_spend_row(full_row(0));
  std::vector<std::string> damaged;
  damaged.push_back(good.substr(0, good.size() / 2));                  // cut short
  damaged.push_back(good + "x");                                       // bytes after the last field
  damaged.push_back(std::string(1, '\x02') + std::string(17, '\0') + std::string(40, '\xff'));  // an integer that never ends
  {
    std::string p = good;
    p[1] = static_cast<char>(p[1] | 0x40);  // a flag no writer sets
    damaged.push_back(p);
  }
  damaged.push_back(format2_with("[\"a\",", "{}"));   // tags: not JSON
  damaged.push_back(format2_with("[1]", "{}"));        // tags: not strings
  damaged.push_back(format2_with("[]", "{\"a\":"));    // metadata: not JSON
  damaged.push_back(format2_with("[]", "[1e400]"));    // metadata: a number no double holds
  damaged.push_back(format2_with("[]", "{}", "12 USD"));  // cost: not a decimal
  damaged.push_back(format2_with("[]", "{}", "922337204"));  // cost: beyond the money range
  ASSERT_NO_THROW(view_spend_row(format2_with("[\"a\"]", "{\"b\":[1e-400]}")));  // the helper itself is sound

  ScratchDir dir;
  int good_rows = 0;
  {
    Spool spool(dir.path(), 64 << 20);
    std::vector<std::string> payloads;
    for (std::size_t i = 0; i < damaged.size(); ++i) {
      payloads.push_back(encode_spend_row(full_row(static_cast<int>(i))));
      ++good_rows;
      payloads.push_back(damaged[i]);
    }
    payloads.push_back(encode_spend_row(full_row(static_cast<int>(damaged.size()))));
    ++good_rows;
    spool.append(payloads);
  }
  auto db = std::make_shared<FakeDb>();
  LedgerOptions o = test_options(dir);
  o.batch_rows = 4;  // damaged records at every position of a batch
  Ledger ledger(o, fake_store_factory(db));
  EXPECT_EQ(ledger.recovered_unshipped().size(), static_cast<size_t>(good_rows));
  ASSERT_TRUE(ledger.record(full_row(good_rows)));
  ++good_rows;
  ASSERT_TRUE(ledger.wait_shipped(kWait));
  expect_each_once(*db, good_rows);
  for (int i = 0; i < good_rows; ++i) expect_same_row(db->spend().at("req-" + std::to_string(i)), full_row(i));
  auto s = ledger.stats();
  EXPECT_EQ(s.shipped, static_cast<uint64_t>(good_rows));
  EXPECT_EQ(s.skipped, damaged.size());
  EXPECT_EQ(s.pending_rows, 0u);
  EXPECT_EQ(s.ship_failures, 0u);
}

}  // namespace
}  // namespace tollgate
