#include "accounting/spool.h"

#include <gtest/gtest.h>

#include <fstream>

#include "accounting/spend_row_testing.h"

namespace tollgate {
namespace {

namespace fs = std::filesystem;
using testing::ScratchDir;

std::vector<fs::path> segment_files(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".spool") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> read_all(Spool& spool) {
  std::vector<std::string> out;
  SpoolPosition pos = spool.cursor();
  for (;;) {
    auto batch = spool.read(pos, 7);
    if (batch.payloads.empty()) break;
    out.insert(out.end(), batch.payloads.begin(), batch.payloads.end());
    pos = batch.end;
  }
  return out;
}

TEST(Spool, Crc32MatchesTheStandardCheckValue) {
  EXPECT_EQ(crc32("123456789", 9), 0xCBF43926u);
  EXPECT_EQ(crc32("", 0), 0u);
}

TEST(Spool, AppendsAndReadsBackInOrderAcrossReopen) {
  ScratchDir dir;
  std::vector<std::string> written;
  {
    Spool spool(dir.path(), 1 << 20);
    for (int g = 0; g < 5; ++g) {
      std::vector<std::string> group;
      for (int i = 0; i < 10; ++i) group.push_back("record " + std::to_string(g * 10 + i) + std::string(i, '\0'));
      EXPECT_EQ(spool.append(group), [&] {
        uint64_t n = 0;
        for (auto& p : group) n += p.size() + Spool::kFrameOverhead;
        return n;
      }());
      written.insert(written.end(), group.begin(), group.end());
    }
    EXPECT_EQ(read_all(spool), written);
  }
  Spool reopened(dir.path(), 1 << 20);
  EXPECT_EQ(read_all(reopened), written);
  EXPECT_EQ(reopened.recovered_torn_bytes(), 0u);
}

TEST(Spool, CursorIsPersistedAndShippedSegmentsAreDeleted) {
  ScratchDir dir;
  {
    Spool spool(dir.path(), 100);  // a new segment after every group of ~100 bytes
    for (int i = 0; i < 6; ++i) spool.append({std::string(120, static_cast<char>('a' + i))});
    EXPECT_EQ(segment_files(dir.path()).size(), 6u);
    EXPECT_EQ(spool.unshipped_bytes(), 6 * (120 + Spool::kFrameOverhead));

    auto batch = spool.read(spool.cursor(), 4);
    ASSERT_EQ(batch.payloads.size(), 4u);
    EXPECT_EQ(batch.payloads[3], std::string(120, 'd'));
    EXPECT_EQ(batch.bytes, 4 * (120 + Spool::kFrameOverhead));
    ASSERT_TRUE(spool.commit(batch.end));
    // Segments 1..3 are wholly shipped; segment 4 holds the cursor.
    EXPECT_EQ(segment_files(dir.path()).size(), 3u);
    EXPECT_EQ(spool.unshipped_bytes(), 2 * (120 + Spool::kFrameOverhead));
  }
  Spool reopened(dir.path(), 100);
  auto rest = read_all(reopened);
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest[0], std::string(120, 'e'));
  EXPECT_EQ(rest[1], std::string(120, 'f'));
}

TEST(Spool, TornTailIsTruncatedOnOpen) {
  ScratchDir dir;
  {
    Spool spool(dir.path(), 1 << 20);
    spool.append({"one", "two", "three"});
  }
  auto seg = segment_files(dir.path()).at(0);
  const auto good_size = fs::file_size(seg);
  {
    // Half a record: a header announcing 100 bytes, then only 10 of them.
    std::ofstream out(seg, std::ios::binary | std::ios::app);
    const char header[8] = {100, 0, 0, 0, 1, 2, 3, 4};
    out.write(header, 8);
    out << "0123456789";
  }
  Spool spool(dir.path(), 1 << 20);
  EXPECT_EQ(spool.recovered_torn_bytes(), 18u);
  EXPECT_EQ(fs::file_size(seg), good_size);
  EXPECT_EQ(read_all(spool), (std::vector<std::string>{"one", "two", "three"}));
  spool.append({"four"});
  EXPECT_EQ(read_all(spool), (std::vector<std::string>{"one", "two", "three", "four"}));
}

TEST(Spool, CorruptLastRecordAndGarbageTailAreDropped) {
  ScratchDir dir;
  {
    Spool spool(dir.path(), 1 << 20);
    spool.append({"alpha", "beta"});
  }
  auto seg = segment_files(dir.path()).at(0);
  {
    // Flip a payload byte of the last record ("beta"), then add random junk.
    std::fstream f(seg, std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(static_cast<std::streamoff>(fs::file_size(seg) - 1));
    f.put('X');
    f.seekp(0, std::ios::end);
    f << "\xff\xff\xff\xff garbage";
  }
  Spool spool(dir.path(), 1 << 20);
  EXPECT_EQ(read_all(spool), std::vector<std::string>{"alpha"});
  EXPECT_EQ(fs::file_size(seg), 5 + Spool::kFrameOverhead);
}

TEST(Spool, UnreadableCursorMeansShipAgainFromTheStart) {
  ScratchDir dir;
  {
    Spool spool(dir.path(), 1 << 20);
    spool.append({"a", "b"});
    auto batch = spool.read(spool.cursor(), 10);
    spool.commit(batch.end);
  }
  {
    std::ofstream(dir.path() / "cursor") << "nonsense";
  }
  Spool spool(dir.path(), 1 << 20);
  EXPECT_EQ(read_all(spool), (std::vector<std::string>{"a", "b"}));
}

TEST(Spool, FailedAppendLeavesNothingBehind) {
  ScratchDir dir;
  Spool spool(dir.path(), 1 << 20);
  spool.append({"kept"});
  EXPECT_THROW(spool.append({"x", std::string(Spool::kMaxPayload + 1, 'y')}), std::length_error);
  EXPECT_EQ(read_all(spool), std::vector<std::string>{"kept"});
}

}  // namespace
}  // namespace tollgate
