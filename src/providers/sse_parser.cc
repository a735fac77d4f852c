#include "providers/sse_parser.h"

#include <utility>

namespace tollgate {
namespace {

constexpr char kBom[] = "\xEF\xBB\xBF";
constexpr std::size_t kBomSize = 3;

}  // namespace

SseParser::SseParser(std::size_t max_event_bytes) : max_event_bytes_(max_event_bytes) {}

bool SseParser::feed(std::string_view bytes, std::vector<SseEvent>& out) {
  if (failed_) return false;
  if (!bom_done_) {
    // The BOM may itself be split across feeds, so matched bytes are held
    // back until we know whether they are a BOM or ordinary content.
    std::size_t i = 0;
    while (i < bytes.size() && bom_matched_ < kBomSize && bytes[i] == kBom[bom_matched_]) {
      ++i;
      ++bom_matched_;
    }
    if (bom_matched_ == kBomSize) {
      bom_done_ = true;
      bytes.remove_prefix(i);
    } else if (i == bytes.size()) {
      return true;
    } else {
      bom_done_ = true;
      bytes.remove_prefix(i);
      if (!process(std::string_view(kBom, bom_matched_), out)) return false;
    }
  }
  return process(bytes, out);
}

bool SseParser::process(std::string_view bytes, std::vector<SseEvent>& out) {
  const char* p = bytes.data();
  const std::size_t n = bytes.size();
  std::size_t pos = 0;
  if (skip_lf_ && n > 0) {
    if (p[0] == '\n') pos = 1;
    skip_lf_ = false;
  }
  while (pos < n) {
    std::size_t end = pos;
    while (end < n && p[end] != '\n' && p[end] != '\r') ++end;
    if (end == n) {
      line_.append(p + pos, n - pos);
      if (pending_bytes() > max_event_bytes_) {
        failed_ = true;
        return false;
      }
      return true;
    }
    const std::string_view line(p + pos, end - pos);
    if (line_.empty()) {
      // Common case: the whole line is inside this chunk; parse it in place.
      process_line(line, out);
    } else {
      line_.append(line);
      process_line(line_, out);
      line_.clear();
    }
    if (pending_bytes() > max_event_bytes_) {
      failed_ = true;
      return false;
    }
    if (p[end] == '\r') {
      if (end + 1 < n) {
        if (p[end + 1] == '\n') ++end;
      } else {
        skip_lf_ = true;
      }
    }
    pos = end + 1;
  }
  return true;
}

void SseParser::process_line(std::string_view line, std::vector<SseEvent>& out) {
  if (line.empty()) {
    dispatch(out);
    return;
  }
  if (line.front() == ':') return;
  std::string_view field = line;
  std::string_view value;
  if (const auto colon = line.find(':'); colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (has_data_) data_.push_back('\n');
    data_.append(value);
    has_data_ = true;
  } else if (field == "event") {
    event_type_.assign(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) last_id_.assign(value);
  }
  // `retry` and unknown fields are ignored: reconnection is the caller's policy.
}

void SseParser::dispatch(std::vector<SseEvent>& out) {
  if (!has_data_) {
    event_type_.clear();
    return;
  }
  SseEvent ev;
  if (!event_type_.empty()) ev.event = std::move(event_type_);
  ev.data = std::move(data_);
  ev.id = last_id_;
  out.push_back(std::move(ev));
  data_.clear();
  event_type_.clear();
  has_data_ = false;
}

std::size_t SseParser::pending_bytes() const {
  return line_.size() + data_.size() + event_type_.size() + last_id_.size();
}

void SseParser::finish(std::vector<SseEvent>& out) {
  if (!failed_) {
    if (!bom_done_ && bom_matched_ > 0) {
      bom_done_ = true;
      process(std::string_view(kBom, bom_matched_), out);
    }
    if (!line_.empty()) {
      const std::string last = std::move(line_);
      line_.clear();
      process_line(last, out);
    }
    dispatch(out);
  }
  reset();
}

void SseParser::reset() {
  line_.clear();
  data_.clear();
  event_type_.clear();
  last_id_.clear();
  has_data_ = false;
  skip_lf_ = false;
  failed_ = false;
  bom_done_ = false;
  bom_matched_ = 0;
}

}  // namespace tollgate
