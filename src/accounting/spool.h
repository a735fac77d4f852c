#pragma once
// Spool: the ledger's durable, append-only local storage.
//
// On disk, a directory of segment files "segment-<20 digits>.spool", each a
// sequence of records framed as [u32 length][u32 crc32(payload)][payload]
// (little-endian), plus a "cursor" file holding the shipped position
// (segment, offset), replaced atomically (temp file + fsync + rename; the
// directory is fsynced before a shipped segment is deleted, not per cursor
// write: a lost rename only brings back an older cursor, i.e. duplicates the
// store ignores). Segments wholly before the cursor are deleted.
//
// Opening recovers from a crash: every segment at or after the cursor is
// scanned; a torn or corrupt tail (short frame, bad length, bad crc) is
// truncated away and logged. Such a record was never acknowledged by
// append(), so nothing accepted is lost; it is never shipped.
//
// Threading: one writer thread calls append(); one reader thread calls read()
// and commit(); both may run at the same time. unshipped_bytes(), cursor()
// and durable_end() may be called from any thread. Everything else (the
// constructor, the destructor) is single-threaded.
// I/O failures throw std::system_error (constructor, append) or are reported
// as documented per function.

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace tollgate {

struct SpoolPosition {
  uint64_t segment = 0;
  uint64_t offset = 0;
  auto operator<=>(const SpoolPosition&) const = default;
};

class Spool {
 public:
  static constexpr uint64_t kFrameOverhead = 8;
  static constexpr uint64_t kMaxPayload = 64ull << 20;

  // Creates `dir` when missing, recovers it (see above) and opens it for
  // appending. A new segment is started once the active one holds
  // `segment_bytes` or more.
  Spool(std::filesystem::path dir, uint64_t segment_bytes);
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // Writer thread. Appends the payloads, in order, as framed records and
  // makes them durable: one fsync of the active segment per call (plus one
  // per segment sealed on the way). Returns the framed bytes written. On
  // failure throws std::system_error after truncating away anything partial:
  // the spool is as before the call, and the call can be retried.
  // Payloads larger than kMaxPayload throw std::length_error.
  uint64_t append(const std::vector<std::string>& payloads);

  struct Batch {
    std::vector<std::string> payloads;
    SpoolPosition end;         // position after the last record read
    uint64_t bytes = 0;        // spool bytes between `from` and `end`
    uint64_t corrupt_bytes = 0;  // skipped over (bad crc found at run time)
  };
  // Reader thread. Up to `max_records` durable records from `from` on (across
  // segment boundaries). An empty batch means nothing durable is left.
  Batch read(SpoolPosition from, size_t max_records);

  // Reader thread. Persists `end` as the shipped position, then deletes the
  // segments wholly before it. Returns false (and logs) when the cursor could
  // not be written; the in-memory cursor still advances, so at worst a
  // restart re-ships rows (the store ignores duplicates).
  bool commit(SpoolPosition end);

  SpoolPosition cursor() const;
  SpoolPosition durable_end() const;
  // Durable bytes from the cursor to the end.
  uint64_t unshipped_bytes() const;
  // Bytes discarded by recovery at open (torn tails).
  uint64_t recovered_torn_bytes() const { return torn_bytes_; }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path segment_path(uint64_t seq) const;
  void recover();
  uint64_t scan_segment(uint64_t seq, uint64_t file_size, bool newest);
  void open_active(uint64_t seq);
  bool write_cursor(SpoolPosition pos);

  std::filesystem::path dir_;
  uint64_t segment_bytes_;
  uint64_t torn_bytes_ = 0;

  // Writer state (writer thread only, after construction).
  int active_fd_ = -1;
  uint64_t active_seq_ = 0;
  uint64_t active_size_ = 0;

  // Reader state (reader thread only).
  int read_fd_ = -1;
  uint64_t read_seq_ = 0;
  std::unique_ptr<char[]> read_buf_;  // not zero-filled: read() fills what it uses
  uint64_t read_cap_ = 0;
  uint64_t read_len_ = 0;

  mutable std::mutex mu_;
  std::map<uint64_t, uint64_t> segments_;  // seq -> durable size; guarded by mu_
  SpoolPosition cursor_;                   // guarded by mu_
};

// CRC-32 (IEEE 802.3, as zlib's crc32).
uint32_t crc32(const void* data, size_t size, uint32_t crc = 0);

}  // namespace tollgate
