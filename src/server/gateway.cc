#include "server/gateway.h"

#include <sys/resource.h>

#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "middleware/auth.h"
#include "middleware/policy.h"
#include "middleware/request_validation.h"
#include "providers/mock/mock_provider.h"
#include "providers/http_provider.h"
#include "providers/adapter_factory.h"
#include "server/worker.h"
#include "server/body_parser.h"
#include "accounting/budget_book.h"
#include "accounting/ledger.h"
#include "accounting/rejection_tally.h"
#include "admin/admin_api.h"
#include "middleware/budget_middleware.h"
#include "middleware/ledger_gate.h"
#include "middleware/limits_middleware.h"
#include "middleware/parallel_limiter.h"
#include "middleware/rate_limiter.h"
#include "middleware/request_overrides.h"
#include "observability/gateway_metrics.h"
#include "observability/otlp_exporter.h"
#include "storage/db_pool.h"
#include "storage/response_archive.h"
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_future.hpp>

namespace tollgate {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

bool is_loopback_host(const std::string& host) {
  if (host == "localhost") return true;
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  return !ec && addr.is_loopback();
}

Worker::Worker(std::shared_ptr<SharedState> st, const GatewayOptions& options,
               std::shared_ptr<asio::ssl::context> server_tls_ctx, std::shared_ptr<asio::ssl::context> client_tls,
               uint64_t seed)
    : state(std::move(st)), server_tls(std::move(server_tls_ctx)), pool(ioc.get_executor(), std::move(client_tls)),
      sleep_(options.sleep ? options.sleep : timer_sleep()), decorate_(options.decorate_provider), seed_(seed) {}

std::shared_ptr<Router> Worker::router_for(const Generation& gen) {
  if (router_ && router_generation_ == gen.number) return router_;
  std::map<std::string, std::unique_ptr<Provider>> providers;
  for (const auto& p : gen.config->providers) {
    std::unique_ptr<Provider> provider;
    if (p.type == ProviderType::mock) {
      provider = std::make_unique<MockProvider>(p);
    } else {
      provider = std::make_unique<HttpProvider>(make_adapter(p), pool, p.params);
    }
    providers[p.name] = decorate_ ? decorate_(p, std::move(provider)) : std::move(provider);
  }
  RouterEnv env{state->deployments, gen.prices, state->metrics};
  router_ = std::make_shared<Router>(gen.config, std::move(providers), sleep_, seed_ + gen.number * 7919, env);
  router_generation_ = gen.number;
  return router_;
}

void Worker::listen(const tcp::endpoint& ep, bool reuse_port) {
  acceptor.open(ep.protocol());
  acceptor.set_option(asio::socket_base::reuse_address(true));
  if (reuse_port) {
    int one = 1;
    ::setsockopt(acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  }
  acceptor.bind(ep);
  acceptor.listen(asio::socket_base::max_listen_connections);
}

void Worker::start_accepting() {
  asio::co_spawn(
      ioc,
      [this]() -> asio::awaitable<void> {
        for (;;) {
          auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
          if (ec) {
            if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
            // EMFILE and friends: log (rate-limited by the pause) and go on.
            spdlog::warn("accept failed: {}", ec.message());
            asio::steady_timer pause(ioc, std::chrono::milliseconds(50));
            co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
            continue;
          }
          // At the limit, an idle kept-alive connection makes room first;
          // with none, the new one is refused rather than starved.
          if (static_cast<std::size_t>(state->open_connections.load()) >= state->max_connections &&
              !close_an_idle_session()) {
            refuse(std::move(socket));
            continue;
          }
          start_session(*this, std::move(socket));
        }
      },
      asio::detached);
}

bool Worker::close_an_idle_session() {
  for (auto* s : sessions) {
    if (s->idle()) {
      s->force_close();
      return true;
    }
  }
  return false;
}

namespace {

const std::string& refusal() {
  static const std::string text = [] {
    const std::string body = ApiError{503, "server_error", "too_many_connections",
                                      "The gateway has reached its connection limit (server.max_connections). "
                                      "Retry shortly.",
                                      {}, 1}
                                 .body();
    return "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\n"
           "connection: close\r\ncontent-length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
  }();
  return text;
}

}  // namespace

void Worker::refuse(tcp::socket socket) {
  if (state->metrics) state->metrics->connection_refused();
  // Best effort and non-blocking: a client that does not read its refusal
  // loses it; the socket closes either way.
  boost::system::error_code ec;
  socket.non_blocking(true, ec);
  socket.write_some(asio::buffer(refusal()), ec);
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
}

void Worker::drain() {
  boost::system::error_code ec;
  acceptor.close(ec);
  // on_drain may close a session, which erases itself later; copy first.
  std::vector<SessionControl*> copy(sessions.begin(), sessions.end());
  for (auto* s : copy) s->on_drain();
}

void Worker::force_close() {
  std::vector<SessionControl*> copy(sessions.begin(), sessions.end());
  for (auto* s : copy) s->force_close();
  pool.close_all();
}

namespace {

std::shared_ptr<asio::ssl::context> make_client_tls() {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  ctx->set_default_verify_paths();
  ctx->set_verify_mode(asio::ssl::verify_peer);
  ctx->set_options(asio::ssl::context::no_sslv2 | asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                   asio::ssl::context::no_tlsv1_1);
  return ctx;
}

std::shared_ptr<asio::ssl::context> make_server_tls(const TlsConfig& tls) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1 |
                   asio::ssl::context::single_dh_use);
  ctx->use_certificate_chain_file(tls.cert_file);
  ctx->use_private_key_file(tls.key_file, asio::ssl::context::pem);
  return ctx;
}

}  // namespace

Gateway::Gateway(std::shared_ptr<const Config> config, GatewayOptions options)
    : state_(std::make_shared<SharedState>()), options_(std::move(options)) {
  state_->config = config;
  state_->deployments = std::make_shared<DeploymentRegistry>(options_.steady_now);
  {
    // Scrape-time readings; they hold the state weakly (the registry lives in it).
    std::weak_ptr<SharedState> weak = state_;
    auto read = [weak](auto f) {
      return std::function<double()>([weak, f] {
        auto st = weak.lock();
        return st ? f(*st) : 0.0;
      });
    };
    GatewayMetrics::Sources src;
    src.in_flight = read([](SharedState& st) { return static_cast<double>(st.in_flight.load()); });
    src.open_connections = read([](SharedState& st) { return static_cast<double>(st.open_connections.load()); });
    src.config_generation = read([](SharedState& st) {
      auto g = st.current();
      return g ? static_cast<double>(g->number) : 0.0;
    });
    if (!config->database.empty()) {
      src.spool_bytes = read([](SharedState& st) { return st.ledger ? static_cast<double>(st.ledger->stats().spool_bytes) : 0.0; });
      src.pending_rows = read([](SharedState& st) { return st.ledger ? static_cast<double>(st.ledger->stats().pending_rows) : 0.0; });
      src.shipping_lag_seconds = read([](SharedState& st) {
        if (!st.ledger) return 0.0;
        auto oldest = st.ledger->stats().oldest_unshipped;
        if (!oldest) return 0.0;
        return std::max(0.0, std::chrono::duration<double>(st.now() - *oldest).count());
      });
    }
    src.traces_dropped = read([](SharedState& st) {
      auto g = st.current();
      return g && g->tracer ? static_cast<double>(g->tracer->dropped()) : 0.0;
    });
    state_->metrics = std::make_shared<GatewayMetrics>(state_->deployments, std::move(src));
  }
  state_->now = options_.now ? options_.now : [] { return SystemClock::now(); };
  state_->budgets = std::make_shared<BudgetBook>(state_->now, std::chrono::hours(1),
                                                 static_cast<std::size_t>(config->budgets.end_user_max_tracked));
  // Rate windows follow the same (injectable) wall clock as budgets.
  state_->rate_limiter = std::make_shared<RateLimiter>([now = state_->now] {
    return RateLimiter::Clock::time_point(
        std::chrono::duration_cast<RateLimiter::Clock::duration>(now().time_since_epoch()));
  });
  state_->parallel = std::make_shared<ParallelLimiter>();
  state_->rejections = std::make_shared<RejectionTally>();
  if (!config->database.empty()) {
    open_database();
  } else {
    // Stored responses without a database: in memory (lost on restart).
    state_->responses = std::make_shared<ResponseArchive>(config->responses, nullptr, state_->now);
  }
  // The first generation; a config that cannot be built is a start-up error.
  state_->publish(build_generation(config, 1, nullptr));
}

std::shared_ptr<const Generation> Gateway::build_generation(std::shared_ptr<const Config> config, uint64_t number,
                                                            const Generation* previous) {
  auto gen = std::make_shared<Generation>();
  gen->number = number;
  gen->config = config;
  if (!config->price_file.empty()) {
    auto table = PriceTable::from_file(config->price_file);
    if (!table) throw std::runtime_error(table.error().message);
    gen->prices = table.value();
  } else {
    gen->prices = PriceTable::bundled();
  }
  // Every adapter must build (credential files, regions) before the
  // generation may serve.
  for (const auto& p : config->providers) {
    if (p.type != ProviderType::mock) (void)make_adapter(p);
  }
  auto chain = std::make_shared<MiddlewareChain>();
  chain->add(std::make_shared<AuthMiddleware>(config, state_->directory, state_->now));
  if (state_->ledger) chain->add(std::make_shared<LedgerGate>(state_->ledger));
  chain->add(std::make_shared<BodyParser>(JsonLimits{config->server.max_json_depth}, state_->responses, config));
  chain->add(std::make_shared<RequestValidation>());
  chain->add(std::make_shared<Policy>(config));
  chain->add(std::make_shared<RequestOverrides>(config));
  chain->add(std::make_shared<LimitsMiddleware>(state_->rate_limiter, state_->parallel));
  chain->add(std::make_shared<BudgetMiddleware>(config, gen->prices, state_->budgets, state_->directory));
  gen->chain = std::move(chain);
  const auto& tc = config->tracing;
  if (!tc.otlp_endpoint.empty()) {
    const auto* old = previous ? previous->config.get() : nullptr;
    if (previous && previous->tracer && old->tracing.otlp_endpoint == tc.otlp_endpoint &&
        old->tracing.headers == tc.headers && old->tracing.service_name == tc.service_name) {
      gen->tracer = previous->tracer;  // same collector: keep its queue
    } else {
      OtlpExporter::Options o;
      o.endpoint = tc.otlp_endpoint;
      o.headers = tc.headers;
      o.service_name = tc.service_name;
      gen->tracer = std::make_shared<OtlpExporter>(o);
    }
  }
  return gen;
}

namespace {

// Settings a reload cannot change: the listener, the threads, the database
// and the ledger. Returns their names where `next` differs, and puts the
// running values back into `next`.
std::vector<std::string> keep_restart_only(const Config& running, Config& next) {
  std::vector<std::string> changed;
  const auto& a = running.server;
  auto& b = next.server;
  if (a.host != b.host || a.port != b.port) changed.push_back("server.listen");
  if (a.threads != b.threads) changed.push_back("server.threads");
  if (a.max_body_bytes != b.max_body_bytes || a.max_header_bytes != b.max_header_bytes) {
    changed.push_back("server.max_body_bytes/max_header_bytes");
  }
  if (a.header_timeout_ms != b.header_timeout_ms || a.idle_timeout_ms != b.idle_timeout_ms ||
      a.write_timeout_ms != b.write_timeout_ms || a.drain_timeout_ms != b.drain_timeout_ms ||
      a.keepalive_interval_ms != b.keepalive_interval_ms) {
    changed.push_back("server.timeouts");
  }
  if (a.tls.has_value() != b.tls.has_value() ||
      (a.tls && (a.tls->cert_file != b.tls->cert_file || a.tls->key_file != b.tls->key_file))) {
    changed.push_back("server.tls");
  }
  next.server = running.server;
  if (running.database != next.database) changed.push_back("database");
  if (running.database_pool != next.database_pool) changed.push_back("database_pool");
  if (running.key_refresh_ms != next.key_refresh_ms) changed.push_back("key_refresh_ms");
  const auto& la = running.ledger;
  const auto& lb = next.ledger;
  if (la.spool_dir != lb.spool_dir || la.max_spool_bytes != lb.max_spool_bytes || la.batch_rows != lb.batch_rows ||
      la.commit_interval_ms != lb.commit_interval_ms || la.ship_interval_ms != lb.ship_interval_ms ||
      la.retry_max_ms != lb.retry_max_ms) {
    changed.push_back("ledger");
  }
  if (running.reload.watch_interval_ms != next.reload.watch_interval_ms) changed.push_back("reload.watch_interval_ms");
  if (running.budgets.end_user_max_tracked != next.budgets.end_user_max_tracked) {
    changed.push_back("budgets.end_user.max_tracked");
    next.budgets.end_user_max_tracked = running.budgets.end_user_max_tracked;
  }
  const auto& ra = running.responses;
  const auto& rb = next.responses;
  if (ra.store_default != rb.store_default || ra.retention_days != rb.retention_days ||
      ra.max_response_bytes != rb.max_response_bytes || ra.memory_max_bytes != rb.memory_max_bytes) {
    changed.push_back("responses");
  }
  next.responses = running.responses;
  next.reload = running.reload;
  next.database = running.database;
  next.database_pool = running.database_pool;
  next.key_refresh_ms = running.key_refresh_ms;
  next.ledger = running.ledger;
  return changed;
}

}  // namespace

std::optional<std::string> Gateway::reload(std::shared_ptr<Config> next) {
  std::lock_guard lock(reload_mu_);
  const auto running = state_->current();
  const auto restart_only = keep_restart_only(*state_->config, *next);
  if (!restart_only.empty()) {
    std::string names;
    for (const auto& n : restart_only) names += (names.empty() ? "" : ", ") + n;
    spdlog::warn("reload: {} changed but take effect only after a restart; the running values stay", names);
  }
  std::shared_ptr<const Generation> gen;
  try {
    gen = build_generation(next, running->number + 1, running.get());
  } catch (const std::exception& e) {
    reload_failed(e.what());
    return std::string(e.what());
  }
  if (state_->metrics) state_->metrics->config_reload(true);  // counted before any request can see it
  state_->publish(gen);
  // Spans of requests still on the old generation are dropped (and counted)
  // once its exporter stops.
  if (running->tracer && running->tracer != gen->tracer) running->tracer->stop();
  if (gen->config->logging.level != running->config->logging.level) {
    const auto level = spdlog::level::from_str(gen->config->logging.level);
    spdlog::set_level(level);
    if (auto access = spdlog::get("access")) access->set_level(std::max(level, spdlog::level::info));
  }
  spdlog::info("config reloaded: generation {} serves new requests ({} model(s), {} provider(s))", gen->number,
               gen->config->models.size(), gen->config->providers.size());
  return std::nullopt;
}

void Gateway::reload_failed(const std::string& why) {
  if (state_->metrics) state_->metrics->config_reload(false);
  spdlog::error("config reload failed, the running config stays: {}", why);
}

bool Gateway::wait_idle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(state_->idle_mu);
  return state_->idle_cv.wait_for(lock, timeout, [&] { return state_->in_flight.load() == 0; });
}

void Gateway::check_health_now() {
  if (workers_.empty()) return;
  auto* w = workers_.front().get();
  auto gen = state_->current();
  auto done = asio::co_spawn(
      w->ioc, [w, gen]() -> asio::awaitable<void> { co_await w->router_for(*gen)->check_health(); }, asio::use_future);
  done.get();
}

void Gateway::start_health_loop() {
  // On the first worker: every router.health_checks.interval_ms (read each
  // round, so a reload can turn checks on or off), one round of checks.
  auto* w = workers_.front().get();
  auto st = state_;
  asio::co_spawn(
      w->ioc,
      [w, st]() -> asio::awaitable<void> {
        asio::steady_timer timer(w->ioc);
        while (!st->draining.load()) {
          const int interval = st->current()->config->router.health_checks.interval_ms;
          timer.expires_after(std::chrono::milliseconds(interval > 0 ? interval : 1000));
          auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
          if (ec || st->draining.load()) co_return;
          auto gen = st->current();
          if (gen->config->router.health_checks.interval_ms > 0) {
            auto router = w->router_for(*gen);
            co_await router->check_health();
          }
        }
      },
      asio::detached);
}

void Gateway::open_database() {
  const auto& cfg = *state_->config;
  auto factory = store_factory(cfg.database);
  state_->directory = std::make_shared<DirectoryHolder>();
  state_->db = std::make_shared<DbPool>(factory, cfg.database_pool);
  state_->db->set_observer([metrics = std::weak_ptr<GatewayMetrics>(state_->metrics)](const char* op,
                                                                                      std::chrono::microseconds d) {
    if (auto m = metrics.lock()) m->database_call(op, d);
  });
  LedgerOptions lo;
  lo.spool_dir = cfg.ledger.spool_dir;
  lo.max_spool_bytes = cfg.ledger.max_spool_bytes;
  lo.batch_rows = cfg.ledger.batch_rows;
  lo.commit_interval = std::chrono::milliseconds(cfg.ledger.commit_interval_ms);
  lo.ship_interval = std::chrono::milliseconds(cfg.ledger.ship_interval_ms);
  lo.retry_initial = std::min(options_.ledger_retry_initial, std::chrono::milliseconds(cfg.ledger.retry_max_ms));
  lo.retry_max = std::chrono::milliseconds(cfg.ledger.retry_max_ms);
  state_->ledger = std::make_shared<Ledger>(lo, factory);
  if (auto n = state_->ledger->recovered_unshipped().size()) {
    spdlog::info("ledger: {} row(s) from before the last stop are still to ship", n);
  }
  state_->admin = std::make_shared<AdminApi>(state_->db, state_->directory, state_->now);
  // Before the maintenance thread starts: it sweeps them.
  state_->responses = std::make_shared<ResponseArchive>(cfg.responses, state_->db, state_->now);
  // One round now, so keys work from the first request when the database is
  // up; the maintenance thread retries when it is not.
  maintenance_round();
  if (!state_->directory->loaded()) {
    spdlog::warn("database unreachable at start: the master key and static keys work, virtual keys get 503 until it returns; "
                 "spend rows wait in the spool");
  }
  maintenance_ = std::thread([this] { maintenance_loop(); });
}

void Gateway::flush_rejections(bool all) {
  if (!state_->ledger || !state_->rejections) return;
  for (auto& row : state_->rejections->flush(state_->now(), all)) {
    if (!state_->ledger->record(std::move(row))) spdlog::error("the spend ledger refused a tally of refused requests");
  }
}

void Gateway::maintenance_round() {
  auto& st = *state_;
  flush_rejections(false);
  try {
    if (!migrated_) {
      std::vector<std::string> applied;
      st.db->run_sync([&](Store& s) { applied = s.migrate(); });
      for (const auto& m : applied) spdlog::info("database: applied migration {}", m);
      migrated_ = true;
    }
    const bool first = !st.directory->loaded();
    int64_t version = -1;
    st.db->run_sync([&](Store& s) { version = s.change_version(); });
    if (first || version != st.directory->get()->version()) {
      Store::Snapshot snap;
      st.db->run_sync([&](Store& s) { snap = s.snapshot(); });
      st.directory->set(Directory::build(std::move(snap)));
    }
    if (first) seed_budgets_from_spool(*st.directory->get());
    const auto now = st.now();
    if (now - last_budget_reset_ >= std::chrono::seconds(60)) {
      int n = 0;
      st.db->run_sync([&](Store& s) { n = s.reset_budgets(now); });
      if (n > 0) spdlog::info("database: {} budget period(s) reset", n);
      last_budget_reset_ = now;
    }
    if (st.responses) {
      if (const int64_t n = st.responses->sweep(); n > 0) spdlog::info("database: {} expired stored response(s) deleted", n);
    }
    maintenance_failures_ = 0;
  } catch (const std::exception& e) {
    // Warn on the first failure and then every 60th, not every round.
    if (maintenance_failures_++ % 60 == 0) spdlog::warn("database maintenance failed: {}", e.what());
  }
}

void Gateway::seed_budgets_from_spool(const Directory& dir) {
  // Rows spooled but not shipped before the last stop are not in the stored
  // spend yet: charge them so a restart cannot reopen a spent budget.
  for (const auto& row : state_->ledger->recovered_unshipped()) {
    if (row.kind != RowKind::spend) continue;
    const double cost = std::strtod(row.cost_usd.c_str(), nullptr);
    if (cost <= 0) continue;
    state_->budgets->charge(budget_scopes(*state_->config, dir, row.key_id, row.team_id, row.user_id, row.end_user), cost);
  }
}

void Gateway::maintenance_loop() {
  const auto interval = std::chrono::milliseconds(state_->config->key_refresh_ms);
  std::unique_lock lock(maintenance_mu_);
  while (!maintenance_stop_) {
    maintenance_cv_.wait_for(lock, interval, [&] { return maintenance_stop_; });
    if (maintenance_stop_) break;
    lock.unlock();
    maintenance_round();
    lock.lock();
  }
}

Gateway::~Gateway() { shutdown(); }

namespace {

// server.max_connections when set, else what the file-descriptor limit
// leaves after upstream connections (about one per client connection) and
// the spool, database and log files.
std::size_t connection_limit(const ServerConfig& server) {
  if (server.max_connections > 0) return server.max_connections;
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return 10000;
  const auto fds = static_cast<std::size_t>(rl.rlim_cur);
  return fds > 192 ? (fds - 64) / 2 : 64;
}

}  // namespace

uint16_t Gateway::start() {
  const auto& cfg = *state_->config;
  state_->max_connections = connection_limit(cfg.server);
  host_ = cfg.server.host;
  if (cfg.open_access() && !is_loopback_host(host_)) {
    spdlog::warn("no keys and no master_key configured: serving on loopback (127.0.0.1) only instead of {}", host_);
    host_ = "127.0.0.1";
  }
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(host_ == "localhost" ? "127.0.0.1" : host_, ec);
  if (ec) throw std::runtime_error("cannot listen on host \"" + host_ + "\": not an IP address");

  std::shared_ptr<asio::ssl::context> server_tls;
  if (cfg.server.tls) server_tls = make_server_tls(*cfg.server.tls);
  auto client_tls = make_client_tls();

  int threads = cfg.server.threads > 0 ? cfg.server.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  uint64_t seed = options_.seed ? options_.seed : std::random_device{}();
  tcp::endpoint ep(addr, cfg.server.port);
  for (int i = 0; i < threads; ++i) {
    auto w = std::make_unique<Worker>(state_, options_, server_tls, client_tls, seed + static_cast<uint64_t>(i));
    try {
      w->listen(ep, threads > 1);
    } catch (const boost::system::system_error& e) {
      throw std::runtime_error("cannot listen on " + host_ + ":" + std::to_string(ep.port()) + ": " + e.code().message());
    }
    if (i == 0) ep.port(w->acceptor.local_endpoint().port());  // port 0 resolves once
    workers_.push_back(std::move(w));
  }
  port_ = ep.port();
  start_health_loop();
  for (auto& w : workers_) {
    w->start_accepting();
    threads_.emplace_back([wp = w.get()] {
      for (;;) {
        try {
          wp->ioc.run();
          return;
        } catch (const std::exception& e) {
          spdlog::error("worker loop: {}", e.what());
        }
      }
    });
  }
  return port_;
}

void Gateway::shutdown() {
  if (stopped_) return;
  stopped_ = true;
  stop_workers();
  {
    std::lock_guard lock(maintenance_mu_);
    maintenance_stop_ = true;
  }
  maintenance_cv_.notify_all();
  if (maintenance_.joinable()) maintenance_.join();
  // Every request has finished: its row is queued. Spool it and try to ship.
  flush_rejections(true);
  if (state_->ledger) state_->ledger->stop();
  if (auto gen = state_->current(); gen && gen->tracer) gen->tracer->stop();
}

void Gateway::stop_workers() {
  if (workers_.empty()) return;
  state_->draining.store(true);
  for (auto& w : workers_) asio::post(w->ioc, [wp = w.get()] { wp->drain(); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(state_->config->server.drain_timeout_ms);
  {
    std::unique_lock lock(state_->idle_mu);
    bool drained = state_->idle_cv.wait_until(lock, deadline, [&] { return state_->open_connections.load() == 0; });
    if (!drained) {
      spdlog::warn("drain deadline reached with {} connection(s) still open; closing them",
                   state_->open_connections.load());
      for (auto& w : workers_) asio::post(w->ioc, [wp = w.get()] { wp->force_close(); });
      state_->idle_cv.wait_for(lock, std::chrono::seconds(2), [&] { return state_->open_connections.load() == 0; });
    }
  }
  for (auto& w : workers_) w->ioc.stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
  workers_.clear();
}

}  // namespace tollgate
