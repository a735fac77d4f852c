#pragma once
// The "ledger" spdlog logger, shared by the spool and the ledger. Created on
// first use (with the registry's level and pattern) unless already
// registered. Thread-safe.

#include <memory>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace tollgate {

inline spdlog::logger& ledger_log() {
  static const std::shared_ptr<spdlog::logger> logger = [] {
    if (auto l = spdlog::get("ledger")) return l;
    try {
      return spdlog::stdout_color_mt("ledger");
    } catch (const spdlog::spdlog_ex&) {
      return spdlog::get("ledger");  // registered meanwhile by another thread
    }
  }();
  return *logger;
}

}  // namespace tollgate
