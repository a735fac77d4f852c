#include "accounting/spool.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "accounting/ledger_log.h"

namespace tollgate {
namespace fs = std::filesystem;

namespace {

constexpr const char* kCursorName = "cursor";
constexpr const char* kCursorTemp = "cursor.tmp";
constexpr const char* kCursorMagic = "tollgate-spool-cursor 1";
constexpr size_t kReadChunk = 1 << 20;

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

void put_u32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

uint32_t get_u32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

void write_all(int fd, const char* data, size_t size, uint64_t offset, const std::string& what) {
  while (size > 0) {
    ssize_t n = ::pwrite(fd, data, size, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno(what);
    }
    data += n;
    size -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
}

// Reads up to `size` bytes; fewer only at end of file.
size_t read_at(int fd, char* data, size_t size, uint64_t offset, const std::string& what) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::pread(fd, data + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno(what);
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

void fsync_dir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw_errno("open " + dir.string());
  int rc = ::fsync(fd);
  int saved = errno;
  ::close(fd);
  if (rc != 0) {
    errno = saved;
    throw_errno("fsync " + dir.string());
  }
}

// "segment-00000000000000000042.spool" -> 42
bool parse_segment_name(const std::string& name, uint64_t& seq) {
  static constexpr std::string_view prefix = "segment-", suffix = ".spool";
  if (name.size() != prefix.size() + 20 + suffix.size()) return false;
  if (name.compare(0, prefix.size(), prefix) != 0) return false;
  if (name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) return false;
  const char* b = name.data() + prefix.size();
  auto [p, ec] = std::from_chars(b, b + 20, seq);
  return ec == std::errc() && p == b + 20;
}

}  // namespace

uint32_t crc32(const void* data, size_t size, uint32_t crc) {
  // Slicing by 8: eight tables, eight bytes per step. The spool checks every
  // record twice (written, read back), so this is on the ledger's hot path.
  static const auto tables = [] {
    std::array<std::array<uint32_t, 256>, 8> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; ++i)
      for (int s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
    return t;
  }();
  const auto* p = static_cast<const unsigned char*>(data);
  crc = ~crc;
  for (; size >= 8; size -= 8, p += 8) {
    const uint32_t lo = crc ^ (uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24);
    const uint32_t hi = uint32_t{p[4]} | uint32_t{p[5]} << 8 | uint32_t{p[6]} << 16 | uint32_t{p[7]} << 24;
    crc = tables[7][lo & 0xff] ^ tables[6][(lo >> 8) & 0xff] ^ tables[5][(lo >> 16) & 0xff] ^ tables[4][lo >> 24] ^
          tables[3][hi & 0xff] ^ tables[2][(hi >> 8) & 0xff] ^ tables[1][(hi >> 16) & 0xff] ^ tables[0][hi >> 24];
  }
  for (; size > 0; --size, ++p) crc = tables[0][(crc ^ *p) & 0xff] ^ (crc >> 8);
  return ~crc;
}

Spool::Spool(fs::path dir, uint64_t segment_bytes) : dir_(std::move(dir)), segment_bytes_(segment_bytes) {
  recover();
}

Spool::~Spool() {
  if (active_fd_ >= 0) ::close(active_fd_);
  if (read_fd_ >= 0) ::close(read_fd_);
}

fs::path Spool::segment_path(uint64_t seq) const {
  char name[64];
  std::snprintf(name, sizeof name, "segment-%020llu.spool", static_cast<unsigned long long>(seq));
  return dir_ / name;
}

void Spool::recover() {
  fs::create_directories(dir_);
  std::error_code ec;
  fs::remove(dir_ / kCursorTemp, ec);

  std::map<uint64_t, uint64_t> found;  // seq -> file size
  for (const auto& entry : fs::directory_iterator(dir_)) {
    uint64_t seq = 0;
    if (entry.is_regular_file() && parse_segment_name(entry.path().filename().string(), seq))
      found[seq] = entry.file_size();
  }

  bool have_cursor = false;
  if (std::ifstream in(dir_ / kCursorName); in) {
    std::string line;
    std::getline(in, line);
    std::istringstream fields(line.size() > std::strlen(kCursorMagic) ? line.substr(std::strlen(kCursorMagic)) : "");
    uint64_t seg = 0, off = 0;
    if (line.rfind(kCursorMagic, 0) == 0 && (fields >> seg >> off)) {
      cursor_ = {seg, off};
      have_cursor = true;
    } else {
      // Re-shipping from the start is safe (the store ignores duplicates);
      // skipping ahead would not be.
      ledger_log().error("spool {}: unreadable cursor file; shipping again from the oldest segment", dir_.string());
    }
  }
  if (!have_cursor) cursor_ = {found.empty() ? 1 : found.begin()->first, 0};

  // Segments before the cursor were shipped; a crash between the cursor
  // write and their deletion leaves them behind.
  for (auto it = found.begin(); it != found.end() && it->first < cursor_.segment;) {
    fs::remove(segment_path(it->first), ec);
    it = found.erase(it);
  }

  for (auto [seq, size] : found) segments_[seq] = scan_segment(seq, size, seq == found.rbegin()->first);

  if (auto it = segments_.find(cursor_.segment); it != segments_.end() && cursor_.offset > it->second) {
    ledger_log().error("spool {}: cursor offset {} beyond segment {} end {}; clamped", dir_.string(), cursor_.offset,
                       cursor_.segment, it->second);
    cursor_.offset = it->second;
  } else if (it == segments_.end() && cursor_.offset != 0) {
    // The cursor's segment is gone; it may be created anew below, and its
    // records then start at 0: an offset into it would skip them as corrupt.
    ledger_log().error("spool {}: cursor segment {} is missing; offset {} reset to 0", dir_.string(), cursor_.segment,
                       cursor_.offset);
    cursor_.offset = 0;
  }

  open_active(segments_.empty() ? std::max<uint64_t>(cursor_.segment, 1) : segments_.rbegin()->first);
}

// Returns the length of the valid prefix of the segment, truncating the rest.
// Also moves the cursor back to a record boundary if it is not on one.
uint64_t Spool::scan_segment(uint64_t seq, uint64_t file_size, bool newest) {
  const fs::path path = segment_path(seq);
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) throw_errno("open " + path.string());
  uint64_t pos = 0;
  uint64_t last_boundary_before_cursor = 0;
  std::string buf;
  char header[kFrameOverhead];
  try {
    while (pos + kFrameOverhead <= file_size) {
      if (read_at(fd, header, kFrameOverhead, pos, "read " + path.string()) != kFrameOverhead) break;
      uint32_t len = get_u32(header);
      uint32_t crc = get_u32(header + 4);
      if (len > kMaxPayload || pos + kFrameOverhead + len > file_size) break;
      buf.resize(len);
      if (read_at(fd, buf.data(), len, pos + kFrameOverhead, "read " + path.string()) != len) break;
      if (crc32(buf.data(), len) != crc) break;
      if (seq == cursor_.segment && pos <= cursor_.offset) last_boundary_before_cursor = pos;
      pos += kFrameOverhead + len;
    }
    if (seq == cursor_.segment && cursor_.offset < pos && cursor_.offset != last_boundary_before_cursor) {
      ledger_log().error("spool {}: cursor offset {} is not on a record boundary; moved back to {}", dir_.string(),
                         cursor_.offset, last_boundary_before_cursor);
      cursor_.offset = last_boundary_before_cursor;
    }
    if (pos < file_size) {
      // A crash mid-append tears only the newest segment; damage in an older
      // one (sealed and fsynced before the next began) is disk corruption.
      ledger_log().log(newest ? spdlog::level::warn : spdlog::level::err,
                       "spool {}: segment {} has a torn or corrupt tail at offset {}; truncating {} bytes",
                       dir_.string(), seq, pos, file_size - pos);
      if (::ftruncate(fd, static_cast<off_t>(pos)) != 0 || ::fsync(fd) != 0) throw_errno("truncate " + path.string());
      torn_bytes_ += file_size - pos;
    }
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  return pos;
}

void Spool::open_active(uint64_t seq) {
  const fs::path path = segment_path(seq);
  bool existed = fs::exists(path);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) throw_errno("open " + path.string());
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int saved = errno;
    ::close(fd);
    errno = saved;
    throw_errno("stat " + path.string());
  }
  if (!existed) {
    try {
      fsync_dir(dir_);
    } catch (...) {
      ::close(fd);
      throw;
    }
  }
  if (active_fd_ >= 0) ::close(active_fd_);
  active_fd_ = fd;
  active_seq_ = seq;
  active_size_ = static_cast<uint64_t>(st.st_size);
  std::lock_guard lk(mu_);
  segments_[seq] = active_size_;
}

uint64_t Spool::append(const std::vector<std::string>& payloads) {
  if (payloads.empty()) return 0;
  for (const auto& p : payloads)
    if (p.size() > kMaxPayload) throw std::length_error("spool record larger than the maximum");

  // Rotation happens between groups, never inside one, so a failed append
  // can be undone by truncating a single file.
  if (active_size_ >= segment_bytes_) {
    if (::fdatasync(active_fd_) != 0) throw_errno("fsync " + segment_path(active_seq_).string());
    open_active(active_seq_ + 1);
  }

  std::string buf;
  size_t total = 0;
  for (const auto& p : payloads) total += kFrameOverhead + p.size();
  buf.reserve(total);
  for (const auto& p : payloads) {
    char header[kFrameOverhead];
    put_u32(header, static_cast<uint32_t>(p.size()));
    put_u32(header + 4, crc32(p.data(), p.size()));
    buf.append(header, kFrameOverhead);
    buf.append(p);
  }

  const uint64_t before = active_size_;
  try {
    write_all(active_fd_, buf.data(), buf.size(), before, "write " + segment_path(active_seq_).string());
    if (::fdatasync(active_fd_) != 0) throw_errno("fsync " + segment_path(active_seq_).string());
  } catch (...) {
    // Leave no partial group behind; if even this fails, recovery at the next
    // open drops the torn tail (the caller still holds the rows and retries).
    if (::ftruncate(active_fd_, static_cast<off_t>(before)) != 0) {
      ledger_log().error("spool {}: could not truncate a failed append: {}", dir_.string(), std::strerror(errno));
    }
    throw;
  }
  active_size_ = before + buf.size();
  std::lock_guard lk(mu_);
  segments_[active_seq_] = active_size_;
  return buf.size();
}

Spool::Batch Spool::read(SpoolPosition from, size_t max_records) {
  Batch batch;
  batch.end = from;
  std::map<uint64_t, uint64_t> segments;
  {
    std::lock_guard lk(mu_);
    segments = segments_;
  }
  auto it = segments.lower_bound(from.segment);
  if (it == segments.end()) return batch;
  SpoolPosition pos = it->first == from.segment ? from : SpoolPosition{it->first, 0};

  read_len_ = 0;
  uint64_t buf_start = 0;  // file offset of read_buf_[0], in segment pos.segment
  while (batch.payloads.size() < max_records) {
    const uint64_t size = it->second;
    if (pos.offset >= size) {
      if (++it == segments.end()) break;
      pos = {it->first, 0};
      read_len_ = 0;
      continue;
    }
    if (read_fd_ < 0 || read_seq_ != pos.segment) {
      if (read_fd_ >= 0) ::close(read_fd_);
      read_fd_ = ::open(segment_path(pos.segment).c_str(), O_RDONLY | O_CLOEXEC);
      if (read_fd_ < 0) throw_errno("open " + segment_path(pos.segment).string());
      read_seq_ = pos.segment;
      read_len_ = 0;
    }
    // Make sure the buffer holds the whole frame at pos.
    auto ensure = [&](uint64_t need) {
      if (read_len_ > 0 && pos.offset >= buf_start && pos.offset + need <= buf_start + read_len_) return;
      uint64_t want = std::min<uint64_t>(size - pos.offset, std::max<uint64_t>(need, kReadChunk));
      if (want > read_cap_) {
        read_buf_ = std::make_unique_for_overwrite<char[]>(want);
        read_cap_ = want;
      }
      read_len_ = read_at(read_fd_, read_buf_.get(), want, pos.offset, "read " + segment_path(pos.segment).string());
      buf_start = pos.offset;
    };
    bool ok = size - pos.offset >= kFrameOverhead;
    uint32_t len = 0;
    if (ok) {
      ensure(kFrameOverhead);
      ok = read_len_ - (pos.offset - buf_start) >= kFrameOverhead;
    }
    if (ok) {
      len = get_u32(read_buf_.get() + (pos.offset - buf_start));
      ok = len <= kMaxPayload && pos.offset + kFrameOverhead + len <= size;
    }
    if (ok) {
      ensure(kFrameOverhead + len);
      const char* frame = read_buf_.get() + (pos.offset - buf_start);
      ok = read_len_ - (pos.offset - buf_start) >= kFrameOverhead + len &&
           crc32(frame + kFrameOverhead, len) == get_u32(frame + 4);
      if (ok) batch.payloads.emplace_back(frame + kFrameOverhead, len);
    }
    if (!ok) {
      // Durable data that no longer checks out: the disk changed under us.
      // Nothing after the damage in this segment can be framed reliably.
      ledger_log().error("spool {}: corrupt record in segment {} at offset {}; skipping {} bytes", dir_.string(),
                         pos.segment, pos.offset, size - pos.offset);
      batch.corrupt_bytes += size - pos.offset;
      batch.bytes += size - pos.offset;
      pos.offset = size;
      batch.end = pos;
      continue;
    }
    pos.offset += kFrameOverhead + len;
    batch.bytes += kFrameOverhead + len;
    batch.end = pos;
  }
  return batch;
}

bool Spool::write_cursor(SpoolPosition pos) {
  const fs::path tmp = dir_ / kCursorTemp;
  const std::string text =
      std::string(kCursorMagic) + " " + std::to_string(pos.segment) + " " + std::to_string(pos.offset) + "\n";
  try {
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) throw_errno("open " + tmp.string());
    try {
      write_all(fd, text.data(), text.size(), 0, "write " + tmp.string());
      if (::fsync(fd) != 0) throw_errno("fsync " + tmp.string());
    } catch (...) {
      ::close(fd);
      throw;
    }
    ::close(fd);
    if (::rename(tmp.c_str(), (dir_ / kCursorName).c_str()) != 0) throw_errno("rename " + tmp.string());
    // No fsync of the directory here: if a crash loses the rename, the old
    // cursor comes back and rows are re-shipped as duplicates, which is safe.
    // commit() syncs the directory before deleting a segment.
    return true;
  } catch (const std::exception& e) {
    ledger_log().error("spool {}: cursor not saved ({}); a restart will re-ship some rows", dir_.string(), e.what());
    return false;
  }
}

bool Spool::commit(SpoolPosition end) {
  bool saved = write_cursor(end);
  std::vector<uint64_t> shipped;
  {
    std::lock_guard lk(mu_);
    cursor_ = end;
    if (saved) {
      for (auto it = segments_.begin(); it != segments_.end() && it->first < end.segment;) {
        shipped.push_back(it->first);
        it = segments_.erase(it);
      }
    }
  }
  if (!shipped.empty()) {
    try {
      fsync_dir(dir_);  // the new cursor is durable before old segments go
    } catch (const std::exception& e) {
      ledger_log().warn("spool {}: {}", dir_.string(), e.what());
    }
  }
  for (uint64_t seq : shipped) {
    if (read_fd_ >= 0 && read_seq_ == seq) {
      ::close(read_fd_);
      read_fd_ = -1;
    }
    std::error_code ec;
    fs::remove(segment_path(seq), ec);
    if (ec) ledger_log().warn("spool {}: could not delete shipped segment {}: {}", dir_.string(), seq, ec.message());
  }
  return saved;
}

SpoolPosition Spool::cursor() const {
  std::lock_guard lk(mu_);
  return cursor_;
}

SpoolPosition Spool::durable_end() const {
  std::lock_guard lk(mu_);
  if (segments_.empty()) return cursor_;
  return {segments_.rbegin()->first, segments_.rbegin()->second};
}

uint64_t Spool::unshipped_bytes() const {
  std::lock_guard lk(mu_);
  uint64_t total = 0;
  for (auto it = segments_.lower_bound(cursor_.segment); it != segments_.end(); ++it)
    total += it->second - (it->first == cursor_.segment ? std::min(cursor_.offset, it->second) : 0);
  return total;
}

}  // namespace tollgate
