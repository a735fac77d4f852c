// tollgate: command line entry point.
//   tollgate [--config FILE] [--listen HOST:PORT]   serve
//   tollgate check --config FILE                    validate and exit
//   tollgate migrate [--database URL]               apply schema migrations
//   tollgate --version | --help

#include <csignal>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

#include "observability/access_log.h"
#include "server/config_reloader.h"
#include "server/gateway.h"
#include "storage/migrate_command.h"
#include "tollgate/config_loader.h"

namespace {

constexpr const char* kUsage = R"(tollgate - an OpenAI-compatible LLM gateway

Usage:
  tollgate [--config FILE] [--listen HOST:PORT]   start the gateway
  tollgate check [--config FILE]                  validate a config file and exit
  tollgate migrate [--database URL]               apply database migrations ($TOLLGATE_DATABASE)
  tollgate --version                              print the version
  tollgate --help                                 print this help

Options:
  --config FILE        YAML config (default: $TOLLGATE_CONFIG, else config/example.yaml)
  --listen HOST:PORT   overrides server.listen from the config

Signals: SIGTERM/SIGINT drain in-flight requests (server.timeouts.drain_ms), then exit.
         SIGHUP reloads the config file (so does saving it; reload.watch_interval_ms).
Docs: README.md and docs/ in the source tree.
)";

struct Args {
  std::string command = "serve";
  std::string config;
  std::string listen;
};

bool parse_listen(const std::string& s, std::string& host, uint16_t& port) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 >= s.size()) return false;
  host = s.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  try {
    std::size_t used = 0;
    int p = std::stoi(s.substr(colon + 1), &used);
    if (used != s.size() - colon - 1 || p < 0 || p > 65535) return false;
    port = static_cast<uint16_t>(p);
  } catch (...) {
    return false;
  }
  return true;
}

int fail_usage(const std::string& msg) {
  std::cerr << "tollgate: " << msg << "\n\n" << kUsage;
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::string(argv[1]) == "migrate") return tollgate::migrate_command(argc, argv);
  Args args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* name) -> std::optional<std::string> {
      if (i + 1 >= argc) return std::nullopt;
      (void)name;
      return std::string(argv[++i]);
    };
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      return 0;
    } else if (a == "--version" || a == "-V") {
      std::cout << "tollgate " << TOLLGATE_VERSION << "\n";
      return 0;
    } else if (a == "--config" || a == "-c") {
      auto v = value("--config");
      if (!v) return fail_usage("--config needs a file");
      args.config = *v;
    } else if (a.starts_with("--config=")) {
      args.config = a.substr(9);
    } else if (a == "--listen") {
      auto v = value("--listen");
      if (!v) return fail_usage("--listen needs HOST:PORT");
      args.listen = *v;
    } else if (a.starts_with("--listen=")) {
      args.listen = a.substr(9);
    } else if (a == "check" || a == "serve") {
      args.command = a;
    } else {
      return fail_usage("unknown argument \"" + a + "\"");
    }
  }
  if (args.config.empty()) {
    const char* env = std::getenv("TOLLGATE_CONFIG");
    args.config = env && *env ? env : "config/example.yaml";
  }

  auto loaded = tollgate::load_config_file(args.config);
  for (const auto& w : loaded.warnings) std::cerr << args.config << ": warning: " << w << "\n";
  if (!loaded.errors.empty()) {
    for (const auto& e : loaded.errors) std::cerr << args.config << ": " << e << "\n";
    std::cerr << "tollgate: " << loaded.errors.size() << " error(s) in " << args.config << "\n";
    return 1;
  }
  auto config = std::make_shared<tollgate::Config>(*loaded.config);
  if (!args.listen.empty()) {
    if (!parse_listen(args.listen, config->server.host, config->server.port)) {
      return fail_usage("--listen expects HOST:PORT, got \"" + args.listen + "\"");
    }
  }
  if (args.command == "check") {
    std::cout << args.config << ": OK (" << config->providers.size() << " provider(s), " << config->models.size()
              << " model(s), " << config->keys.size() << " key(s))\n";
    return 0;
  }

  tollgate::setup_logging(config->logging.level);
  std::signal(SIGPIPE, SIG_IGN);
  try {
    tollgate::Gateway gateway(config);
    uint16_t port = gateway.start();
    const std::string scheme = config->server.tls ? "https" : "http";
    const std::string host = gateway.bound_host().find(':') != std::string::npos ? "[" + gateway.bound_host() + "]"
                                                                                  : gateway.bound_host();
    const std::string url = scheme + "://" + host + ":" + std::to_string(port);
    spdlog::info("tollgate {} listening on {} ({} model(s))", TOLLGATE_VERSION, url, config->models.size());
    if (config->open_access()) {
      spdlog::warn("no keys and no master_key configured: anyone on this machine can call the gateway; it serves loopback only");
    }
    std::cout << "\nTollgate is running at " << url << "/v1  (OpenAI-compatible base_url)\n"
              << "Try it:\n  curl -s " << url << "/v1/chat/completions -H 'Content-Type: application/json'"
              << (config->open_access() ? "" : " -H 'Authorization: Bearer $YOUR_KEY'") << " \\\n    -d '{\"model\":\""
              << (config->models.empty() ? "MODEL" : config->models.front().name)
              << "\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}'\n"
              << "Stop with Ctrl-C.\n"
              << std::endl;

    // Reloads: SIGHUP, and a change of the file (polled).
    tollgate::ConfigReloader reloader(gateway, args.config, [&args](tollgate::Config& next) {
      // --listen overrides the file at every load, as at start.
      if (!args.listen.empty()) parse_listen(args.listen, next.server.host, next.server.port);
    });
    reloader.start_watching(config->reload.watch_interval_ms);

    boost::asio::io_context signals_ctx;
    boost::asio::signal_set signals(signals_ctx, SIGINT, SIGTERM);
    boost::asio::signal_set hangup(signals_ctx, SIGHUP);
    std::function<void()> wait_hangup = [&] {
      hangup.async_wait([&](const boost::system::error_code& ec, int) {
        if (ec) return;
        spdlog::info("received SIGHUP, reloading {}", args.config);
        reloader.reload("SIGHUP");
        wait_hangup();
      });
    };
    wait_hangup();
    signals.async_wait([&](const boost::system::error_code&, int sig) {
      spdlog::info("received signal {}, draining (up to {} ms)", sig, config->server.drain_timeout_ms);
      hangup.cancel();
    });
    signals_ctx.run();
    reloader.stop();
    gateway.shutdown();
    spdlog::info("stopped");
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    return 1;
  }
  return 0;
}
