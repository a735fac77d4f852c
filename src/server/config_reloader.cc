#include "server/config_reloader.h"

#include <fstream>
#include <sstream>

#include <spdlog/spdlog.h>

#include "server/gateway.h"
#include "tollgate/config_loader.h"

namespace tollgate {

ConfigReloader::ConfigReloader(Gateway& gateway, std::string path, std::function<void(Config&)> adjust)
    : gateway_(gateway), path_(std::move(path)), adjust_(std::move(adjust)) {
  signature_ = read_signature();
}

ConfigReloader::~ConfigReloader() { stop(); }

std::string ConfigReloader::read_signature() const {
  // The content itself: editors that rewrite within the same second, and
  // Kubernetes' symlink swaps, change it even when mtime and size do not.
  std::ifstream in(path_, std::ios::binary);
  if (!in) return {};
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

bool ConfigReloader::reload(const std::string& reason) {
  std::lock_guard lock(reload_mu_);
  signature_ = read_signature();
  auto loaded = load_config_file(path_);
  for (const auto& w : loaded.warnings) spdlog::warn("reload ({}): {}: warning: {}", reason, path_, w);
  if (!loaded.errors.empty()) {
    for (const auto& e : loaded.errors) spdlog::error("reload ({}): {}: {}", reason, path_, e);
    gateway_.reload_failed(std::to_string(loaded.errors.size()) + " error(s) in " + path_);
    return false;
  }
  auto next = std::make_shared<Config>(*loaded.config);
  if (adjust_) adjust_(*next);
  if (auto error = gateway_.reload(std::move(next))) {
    spdlog::error("reload ({}): {}", reason, *error);
    return false;
  }
  return true;
}

bool ConfigReloader::poll() {
  {
    std::lock_guard lock(reload_mu_);
    if (read_signature() == signature_) return false;
  }
  return reload("file changed");
}

void ConfigReloader::start_watching(int interval_ms) {
  if (interval_ms <= 0 || watcher_.joinable()) return;
  watcher_ = std::thread([this, interval = std::chrono::milliseconds(interval_ms)] {
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, interval, [&] { return stop_; })) {
      lock.unlock();
      poll();
      lock.lock();
    }
  });
}

void ConfigReloader::stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (watcher_.joinable()) watcher_.join();
}

}  // namespace tollgate
