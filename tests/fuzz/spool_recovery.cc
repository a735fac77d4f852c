// Spool recovery from a corrupted directory: the input becomes a segment
// file (and, by mode, a cursor file and a second segment), the spool is
// opened (recovery runs), every row is read back, and the records are
// decoded as spend rows. Two modes for the segment bytes: raw, or records
// framed with valid CRCs from the input, then optionally damaged, so the
// fuzzer also gets past the CRC checks to the reader and the row codec.
// Checks: no crash and no endless loop; recovery reports what it cut
// (valid prefix + recovered_torn_bytes == file size, and the file is
// truncated to that prefix); reading from the cursor terminates, finds no
// corruption after recovery, and returns exactly the valid records from the
// cursor on; after recovery a new record appends and reads back; a reopen
// changes nothing more.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "accounting/spend_row_codec.h"
#include "accounting/spool.h"
#include "fuzz_support.h"

namespace {

namespace fs = std::filesystem;
using tollgate::Spool;
using tollgate::SpoolPosition;

const fs::path& scratch() {
  static const fs::path dir = [] {
    tollgate::fuzz::quiet_logs();
    // tmpfs when there is one: recovery fsyncs, which is slow on a disk.
    fs::path base = fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
    if (const char* t = std::getenv("TOLLGATE_FUZZ_TMPDIR")) base = t;
    return base / ("tollgate-fuzz-spool-" + std::to_string(::getpid()));
  }();
  return dir;
}

std::string segment_name(uint64_t seq) {
  char name[64];
  std::snprintf(name, sizeof name, "segment-%020llu.spool", static_cast<unsigned long long>(seq));
  return name;
}

void put_u32le(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}

void write_file(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The records a scan keeps: the longest prefix of well-framed records.
struct Prefix {
  uint64_t bytes = 0;
  std::vector<std::pair<uint64_t, std::string>> records;  // offset, payload
};
Prefix valid_prefix(const std::string& seg) {
  Prefix p;
  uint64_t pos = 0;
  while (pos + Spool::kFrameOverhead <= seg.size()) {
    uint32_t len = 0, crc = 0;
    for (int i = 0; i < 4; ++i) len |= uint32_t{static_cast<unsigned char>(seg[pos + i])} << (8 * i);
    for (int i = 0; i < 4; ++i) crc |= uint32_t{static_cast<unsigned char>(seg[pos + 4 + i])} << (8 * i);
    if (len > Spool::kMaxPayload || pos + Spool::kFrameOverhead + len > seg.size()) break;
    if (tollgate::crc32(seg.data() + pos + Spool::kFrameOverhead, len) != crc) break;
    p.records.emplace_back(pos, seg.substr(pos + Spool::kFrameOverhead, len));
    pos += Spool::kFrameOverhead + len;
  }
  p.bytes = pos;
  return p;
}

std::vector<std::string> read_all(Spool& spool, SpoolPosition from, uint64_t& corrupt) {
  std::vector<std::string> out;
  // Each non-empty batch consumes at least one frame header, so a bound on
  // the number of batches turns an endless loop into a finding.
  for (int guard = 0; guard < 100000; ++guard) {
    auto batch = spool.read(from, 3);
    corrupt += batch.corrupt_bytes;
    if (batch.payloads.empty() && batch.end == from) return out;
    FUZZ_CHECK(from < batch.end, "read() did not advance");
    out.insert(out.end(), batch.payloads.begin(), batch.payloads.end());
    from = batch.end;
  }
  FUZZ_CHECK(false, "read() loops");
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 256 * 1024) return 0;
  FuzzedDataProvider fdp(data, size);
  const uint8_t mode = fdp.ConsumeIntegral<uint8_t>();
  const fs::path& dir = scratch();
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir);

  const uint64_t seq = 1 + fdp.ConsumeIntegralInRange<uint64_t>(0, 3);
  std::string cursor;
  if (mode & 2) cursor = fdp.ConsumeRandomLengthString(64);
  std::string seg;
  if (mode & 1) {
    const int records = fdp.ConsumeIntegralInRange<int>(0, 8);
    const uint16_t flip = fdp.ConsumeIntegral<uint16_t>();
    const bool damage = mode & 4;
    for (int i = 0; i < records && fdp.remaining_bytes() > 0; ++i) {
      const std::string payload = fdp.ConsumeRandomLengthString(512);
      put_u32le(seg, static_cast<uint32_t>(payload.size()));
      put_u32le(seg, tollgate::crc32(payload.data(), payload.size()));
      seg += payload;
    }
    seg += fdp.ConsumeRemainingBytesAsString();  // a torn tail
    if (damage && !seg.empty()) seg[flip % seg.size()] ^= 0x20;
  } else {
    seg = fdp.ConsumeRemainingBytesAsString();
  }
  write_file(dir / segment_name(seq), seg);
  // An older sealed segment before it, intact, when the mode says so.
  const bool older = (mode & 8) && seq > 1;
  if (older) {
    std::string intact;
    put_u32le(intact, 5);
    put_u32le(intact, tollgate::crc32("older", 5));
    intact += "older";
    write_file(dir / segment_name(seq - 1), intact);
  }
  if (mode & 2) write_file(dir / "cursor", "tollgate-spool-cursor 1 " + cursor + "\n");

  const Prefix prefix = valid_prefix(seg);
  try {
    Spool spool(dir, 1 << 20);
    const SpoolPosition cur = spool.cursor();
    // Recovery reports the cut and leaves exactly the valid prefix on disk
    // (the segment holding or after the cursor is the one scanned).
    if (cur.segment <= seq) {
      FUZZ_CHECK(spool.recovered_torn_bytes() == seg.size() - prefix.bytes, "torn bytes not reported");
      FUZZ_CHECK(read_file(dir / segment_name(seq)) == seg.substr(0, prefix.bytes), "segment not truncated");
    }
    uint64_t corrupt = 0;
    const auto rows = read_all(spool, cur, corrupt);
    FUZZ_CHECK(corrupt == 0, "corruption found after recovery");
    std::vector<std::string> expected;
    // The older segment holds one 13-byte record; recovery leaves the cursor
    // on a record boundary of it (0 or 13) when it points there.
    if (older && (cur.segment < seq - 1 || (cur.segment == seq - 1 && cur.offset == 0))) expected.push_back("older");
    for (const auto& [offset, payload] : prefix.records) {
      if (seq > cur.segment || (seq == cur.segment && offset >= cur.offset)) expected.push_back(payload);
    }
    FUZZ_CHECK(rows == expected, "rows read differ from the valid records after the cursor");
    for (const auto& row : rows) {
      try {
        (void)tollgate::decode_spend_row(row);
      } catch (const std::runtime_error&) {
        // The documented answer for a payload that is not a spend row.
      }
    }
    // The recovered spool takes new records, which read back after the old.
    spool.append({"appended"});
    uint64_t corrupt2 = 0;
    auto after = read_all(spool, cur, corrupt2);
    FUZZ_CHECK(corrupt2 == 0 && !after.empty() && after.back() == "appended", "append after recovery lost");
  } catch (const std::system_error&) {
    // I/O errors are the documented failure; none are expected on tmpfs.
    FUZZ_CHECK(false, "I/O error in a scratch directory");
  }
  // A second open finds nothing more to repair.
  Spool reopened(dir, 1 << 20);
  FUZZ_CHECK(reopened.recovered_torn_bytes() == 0, "a second recovery cut more");
  fs::remove_all(dir, ec);
  return 0;
}
