#pragma once
// Reloads the config file into a running gateway: on SIGHUP (main.cc calls
// reload()) and when the file's content changes (poll(), every
// reload.watch_interval_ms on the watcher thread). The file is loaded and
// validated in full first; only a valid config replaces the running one.

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace tollgate {

class Gateway;
struct Config;

class ConfigReloader {
 public:
  // `adjust` is applied to every loaded config before it is used (main.cc
  // reapplies --listen). `path` is the file the gateway started from.
  ConfigReloader(Gateway& gateway, std::string path, std::function<void(Config&)> adjust = nullptr);
  ~ConfigReloader();
  ConfigReloader(const ConfigReloader&) = delete;
  ConfigReloader& operator=(const ConfigReloader&) = delete;

  // Loads the file and hands it to the gateway. True when the new config
  // serves; false (the old one keeps serving; errors logged and counted)
  // otherwise. `reason` goes to the log ("SIGHUP", "file changed").
  bool reload(const std::string& reason);
  // Reloads when the file's content differs from what was last loaded (or
  // last failed to load). Returns whether it reloaded successfully.
  bool poll();

  // Polls every `interval_ms` on a thread until stop() (0: no thread).
  void start_watching(int interval_ms);
  void stop();

 private:
  std::string read_signature() const;

  Gateway& gateway_;
  std::string path_;
  std::function<void(Config&)> adjust_;
  std::mutex reload_mu_;  // one reload at a time (signal and watcher)
  std::string signature_;  // content of the file last tried

  std::thread watcher_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
};

}  // namespace tollgate
