#include "observability/metrics.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <map>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace tollgate {
namespace {

// A strict reader for the text format: every line is a comment (# HELP /
// # TYPE) or `name{labels} value`. Label values are unescaped; the key of a
// sample is its name plus its labels re-joined as name{a=x,b=y}.
struct Sample {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;
  double value;
};

struct Exposition {
  std::map<std::string, std::string> help;  // unescaped
  std::map<std::string, std::string> type;
  std::vector<Sample> samples;

  double get(const std::string& key) const {
    for (const auto& s : samples) {
      std::string k = s.name;
      if (!s.labels.empty()) {
        k += '{';
        for (std::size_t i = 0; i < s.labels.size(); ++i) k += (i ? "," : "") + s.labels[i].first + "=" + s.labels[i].second;
        k += '}';
      }
      if (k == key) return s.value;
    }
    ADD_FAILURE() << "no sample " << key;
    return -1;
  }
};

bool is_name_char(char c, bool first) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':' ||
         (!first && std::isdigit(static_cast<unsigned char>(c)));
}

double parse_value(const std::string& v) {
  if (v == "+Inf") return INFINITY;
  if (v == "-Inf") return -INFINITY;
  if (v == "NaN") return NAN;
  std::size_t used = 0;
  double d = std::stod(v, &used);
  if (used != v.size()) throw std::runtime_error("bad value " + v);
  return d;
}

Exposition parse(const std::string& text) {
  Exposition e;
  if (!text.empty() && text.back() != '\n') throw std::runtime_error("no trailing newline");
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("# HELP ")) {
      auto rest = line.substr(7);
      auto sp = rest.find(' ');
      std::string h;
      for (std::size_t i = sp + 1; i < rest.size(); ++i) {
        if (rest[i] == '\\') {
          char n = rest.at(++i);
          if (n == 'n')
            h += '\n';
          else if (n == '\\')
            h += '\\';
          else
            throw std::runtime_error("bad escape in help");
        } else {
          h += rest[i];
        }
      }
      e.help[rest.substr(0, sp)] = h;
      continue;
    }
    if (line.starts_with("# TYPE ")) {
      auto rest = line.substr(7);
      auto sp = rest.find(' ');
      e.type[rest.substr(0, sp)] = rest.substr(sp + 1);
      continue;
    }
    Sample s;
    std::size_t i = 0;
    while (i < line.size() && is_name_char(line[i], i == 0)) s.name += line[i++];
    if (s.name.empty()) throw std::runtime_error("bad line: " + line);
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (line.at(i) != '}') {
        std::string k, v;
        while (is_name_char(line.at(i), k.empty())) k += line[i++];
        if (line.at(i++) != '=' || line.at(i++) != '"') throw std::runtime_error("bad label: " + line);
        while (line.at(i) != '"') {
          if (line[i] == '\\') {
            char n = line.at(++i);
            v += n == 'n' ? '\n' : n;
            if (n != 'n' && n != '\\' && n != '"') throw std::runtime_error("bad escape: " + line);
          } else {
            v += line[i];
          }
          ++i;
        }
        ++i;
        s.labels.emplace_back(k, v);
        if (line.at(i) == ',') ++i;
      }
      ++i;
    }
    if (line.at(i++) != ' ') throw std::runtime_error("no space: " + line);
    s.value = parse_value(line.substr(i));
    e.samples.push_back(std::move(s));
  }
  return e;
}

TEST(Metrics, EmptyRegistryRendersNothing) {
  MetricsRegistry r;
  EXPECT_EQ(r.render(), "");
}

TEST(Metrics, CounterRendersExactLinesSortedByLabelValues) {
  MetricsRegistry r;
  auto& c = r.counter("tollgate_requests_total", "Requests served.", {"model", "provider", "status"});
  c.add({"gpt-4o", "openai", "200"});
  c.add({"claude", "anthropic", "200"}, 2);
  c.add({"gpt-4o", "openai", "200"}, 0.5);
  EXPECT_EQ(r.render(),
            "# HELP tollgate_requests_total Requests served.\n"
            "# TYPE tollgate_requests_total counter\n"
            "tollgate_requests_total{model=\"claude\",provider=\"anthropic\",status=\"200\"} 2\n"
            "tollgate_requests_total{model=\"gpt-4o\",provider=\"openai\",status=\"200\"} 1.5\n");
  EXPECT_EQ(c.value({"gpt-4o", "openai", "200"}), 1.5);
  EXPECT_EQ(c.value({"gpt-4o", "openai", "500"}), 0);
}

TEST(Metrics, FamiliesAreSortedByNameAndUnlabelledOnesStartAtZero) {
  MetricsRegistry r;
  r.gauge("tollgate_open_connections", "Open client connections.");
  r.counter("tollgate_config_reloads_total", "Reloads.", {"result"});
  r.counter("tollgate_traces_dropped_total", "Spans dropped.");
  EXPECT_EQ(r.render(),
            "# HELP tollgate_config_reloads_total Reloads.\n"
            "# TYPE tollgate_config_reloads_total counter\n"
            "# HELP tollgate_open_connections Open client connections.\n"
            "# TYPE tollgate_open_connections gauge\n"
            "tollgate_open_connections 0\n"
            "# HELP tollgate_traces_dropped_total Spans dropped.\n"
            "# TYPE tollgate_traces_dropped_total counter\n"
            "tollgate_traces_dropped_total 0\n");
}

TEST(Metrics, HelpAndLabelValuesAreEscaped) {
  MetricsRegistry r;
  auto& c = r.counter("x_total", "Line one\nback\\slash \"quotes\" stay", {"model"});
  c.add({"a\"b\\c\nd"});
  const std::string text = r.render();
  EXPECT_EQ(text,
            "# HELP x_total Line one\\nback\\\\slash \"quotes\" stay\n"
            "# TYPE x_total counter\n"
            "x_total{model=\"a\\\"b\\\\c\\nd\"} 1\n");
  auto e = parse(text);
  EXPECT_EQ(e.help["x_total"], "Line one\nback\\slash \"quotes\" stay");
  ASSERT_EQ(e.samples.size(), 1u);
  EXPECT_EQ(e.samples[0].labels[0].second, "a\"b\\c\nd");
}

TEST(Metrics, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  MetricsRegistry r;
  auto& h = r.histogram("lat_seconds", "Latency.", {"model"}, {0.1, 0.5, 1});
  h.observe({"m"}, 0.05);
  h.observe({"m"}, 0.1);  // le is inclusive
  h.observe({"m"}, 0.3);
  h.observe({"m"}, 7);
  h.observe({"m"}, std::nan(""));  // ignored
  EXPECT_EQ(r.render(),
            "# HELP lat_seconds Latency.\n"
            "# TYPE lat_seconds histogram\n"
            "lat_seconds_bucket{model=\"m\",le=\"0.1\"} 2\n"
            "lat_seconds_bucket{model=\"m\",le=\"0.5\"} 3\n"
            "lat_seconds_bucket{model=\"m\",le=\"1\"} 3\n"
            "lat_seconds_bucket{model=\"m\",le=\"+Inf\"} 4\n"
            "lat_seconds_sum{model=\"m\"} 7.45\n"
            "lat_seconds_count{model=\"m\"} 4\n");
  EXPECT_EQ(h.count({"m"}), 4u);
  EXPECT_DOUBLE_EQ(h.sum({"m"}), 7.45);
}

TEST(Metrics, DefaultBucketsAreTheIssueFiveListAndRenderWithoutExponent) {
  EXPECT_EQ(default_buckets(),
            (std::vector<double>{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300}));
  MetricsRegistry r;
  auto& h = r.histogram("tollgate_gateway_overhead_seconds", "Overhead.");
  h.observe(0.003);
  h.observe(301);
  auto e = parse(r.render());
  std::vector<std::string> les;
  double previous = -1;
  for (const auto& s : e.samples) {
    if (s.name != "tollgate_gateway_overhead_seconds_bucket") continue;
    ASSERT_EQ(s.labels.size(), 1u);
    les.push_back(s.labels[0].second);
    EXPECT_GE(s.value, previous);
    previous = s.value;
  }
  EXPECT_EQ(les, (std::vector<std::string>{"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5",
                                           "10", "30", "60", "120", "300", "+Inf"}));
  EXPECT_EQ(e.get("tollgate_gateway_overhead_seconds_bucket{le=0.005}"), 1);
  EXPECT_EQ(e.get("tollgate_gateway_overhead_seconds_bucket{le=300}"), 1);
  EXPECT_EQ(e.get("tollgate_gateway_overhead_seconds_bucket{le=+Inf}"), 2);
  EXPECT_EQ(e.get("tollgate_gateway_overhead_seconds_count"), 2);
  EXPECT_DOUBLE_EQ(e.get("tollgate_gateway_overhead_seconds_sum"), 301.003);
}

TEST(Metrics, NumbersAreFormattedSoPrometheusParsesThem) {
  MetricsRegistry r;
  auto& g = r.gauge("g", "G.", {"k"});
  g.set({"big"}, 123456789012.0);
  g.set({"huge"}, 1e21);
  g.set({"inf"}, INFINITY);
  g.set({"minf"}, -INFINITY);
  g.set({"nan"}, NAN);
  g.set({"neg"}, -3);
  g.set({"tenth"}, 0.1 + 0.2);
  g.set({"tiny"}, 1e-9);
  const std::string text = r.render();
  EXPECT_NE(text.find("g{k=\"big\"} 123456789012\n"), std::string::npos) << text;
  EXPECT_NE(text.find("g{k=\"inf\"} +Inf\n"), std::string::npos);
  EXPECT_NE(text.find("g{k=\"minf\"} -Inf\n"), std::string::npos);
  EXPECT_NE(text.find("g{k=\"nan\"} NaN\n"), std::string::npos);
  EXPECT_NE(text.find("g{k=\"neg\"} -3\n"), std::string::npos);
  auto e = parse(text);
  EXPECT_EQ(e.get("g{k=huge}"), 1e21);
  EXPECT_EQ(e.get("g{k=tenth}"), 0.1 + 0.2);  // shortest form still round-trips
  EXPECT_EQ(e.get("g{k=tiny}"), 1e-9);
}

TEST(Metrics, GaugeSetAddAndRemove) {
  MetricsRegistry r;
  auto& g = r.gauge("tollgate_deployment_in_flight", "In flight.", {"deployment"});
  g.add({"openai/gpt-4o"}, 1);
  g.add({"openai/gpt-4o"}, 1);
  g.add({"openai/gpt-4o"}, -1);
  g.set({"anthropic/claude"}, 5);
  EXPECT_EQ(g.value({"openai/gpt-4o"}), 1);
  g.remove({"anthropic/claude"});
  g.remove({"never-seen"});
  EXPECT_EQ(r.render(),
            "# HELP tollgate_deployment_in_flight In flight.\n"
            "# TYPE tollgate_deployment_in_flight gauge\n"
            "tollgate_deployment_in_flight{deployment=\"openai/gpt-4o\"} 1\n");
}

TEST(Metrics, SpanOfStringsAddressesTheSameSeriesAsALiteralList) {
  MetricsRegistry r;
  auto& c = r.counter("c_total", "C.", {"a", "b"});
  std::vector<std::string> labels{"x", "y"};
  c.add(labels, 2);
  c.add({"x", "y"}, 3);
  std::string model = "x";
  c.add({model, "y"});
  EXPECT_EQ(c.value({"x", "y"}), 6);
  EXPECT_EQ(c.series_count(), 1u);
}

TEST(Metrics, CounterIgnoresNegativeAndNanIncrements) {
  MetricsRegistry r;
  auto& c = r.counter("c_total", "C.");
  c.add(2);
  c.add(-1);
  c.add(std::nan(""));
  EXPECT_EQ(c.value({}), 2);
}

TEST(Metrics, WrongLabelCountThrows) {
  MetricsRegistry r;
  auto& c = r.counter("c_total", "C.", {"a", "b"});
  auto& g = r.gauge("g", "G.", {"a"});
  auto& h = r.histogram("h", "H.", {"a"});
  EXPECT_THROW(c.add({"x"}), std::invalid_argument);
  EXPECT_THROW(c.add({"x", "y", "z"}, -1), std::invalid_argument);
  EXPECT_THROW(c.add(1), std::invalid_argument);
  EXPECT_THROW(g.set({}, 1), std::invalid_argument);
  EXPECT_THROW(g.set(std::vector<std::string>{"x", "y"}, 1), std::invalid_argument);
  EXPECT_THROW(h.observe({"x", "y"}, 1), std::invalid_argument);
  EXPECT_THROW((void)h.count({}), std::invalid_argument);
  EXPECT_EQ(r.render().find("c_total{"), std::string::npos);  // nothing was recorded
}

TEST(Metrics, RegistrationReturnsTheSameFamilyOrRejectsAConflict) {
  MetricsRegistry r;
  auto& a = r.counter("c_total", "C.", {"a"});
  EXPECT_EQ(&r.counter("c_total", "C.", {"a"}), &a);
  EXPECT_THROW(r.counter("c_total", "C.", {"b"}), std::invalid_argument);
  EXPECT_THROW(r.gauge("c_total", "C.", {"a"}), std::invalid_argument);
  r.histogram("h", "H.", {}, {1, 2});
  EXPECT_THROW(r.histogram("h", "H.", {}, {1, 3}), std::invalid_argument);
  EXPECT_THROW(r.gauge_callback("h", "H.", [] { return 1.0; }), std::invalid_argument);
}

TEST(Metrics, InvalidNamesLabelsAndBucketsAreRejected) {
  MetricsRegistry r;
  EXPECT_THROW(r.counter("", "x"), std::invalid_argument);
  EXPECT_THROW(r.counter("1abc", "x"), std::invalid_argument);
  EXPECT_THROW(r.counter("a-b", "x"), std::invalid_argument);
  EXPECT_THROW(r.counter("ok", "x", {"__reserved"}), std::invalid_argument);
  EXPECT_THROW(r.counter("ok", "x", {"a:b"}), std::invalid_argument);
  EXPECT_THROW(r.counter("ok", "x", {"a", "a"}), std::invalid_argument);
  EXPECT_THROW(r.histogram("h", "x", {"le"}), std::invalid_argument);
  EXPECT_THROW(r.histogram("h", "x", {}, {1, 1}), std::invalid_argument);
  EXPECT_THROW(r.histogram("h", "x", {}, {2, 1}), std::invalid_argument);
  EXPECT_THROW(r.histogram("h", "x", {}, {NAN}), std::invalid_argument);
  EXPECT_NO_THROW(r.counter("ns:sub_total", "x", {"_a1"}));
  auto& h = r.histogram("h2", "x", {}, {1, INFINITY});  // an explicit +Inf is the implicit one
  EXPECT_EQ(h.buckets(), std::vector<double>{1});
}

TEST(Metrics, CardinalityGuardFoldsNewSeriesIntoOther) {
  MetricsRegistry r(2);
  auto& c = r.counter("c_total", "C.", {"model", "key"});
  auto& h = r.histogram("h", "H.", {"model"}, {1});
  c.add({"a", "k"});
  c.add({"b", "k"});
  c.add({"c", "k"});
  c.add({"d", "k"}, 2);
  c.add({"a", "k"});  // existing series still update
  h.observe({"a"}, 0.5);
  h.observe({"b"}, 0.5);
  h.observe({"c"}, 2);
  EXPECT_EQ(c.series_count(), 3u);
  EXPECT_EQ(c.folded(), 2u);
  EXPECT_EQ(h.folded(), 1u);
  auto e = parse(r.render());
  EXPECT_EQ(e.get("c_total{model=a,key=k}"), 2);
  EXPECT_EQ(e.get("c_total{model=b,key=k}"), 1);
  EXPECT_EQ(e.get("c_total{model=other,key=other}"), 3);
  EXPECT_EQ(e.get("h_bucket{model=other,le=+Inf}"), 1);
  EXPECT_EQ(e.get("h_bucket{model=other,le=1}"), 0);
}

TEST(Metrics, CallbacksAreReadAtScrapeTime) {
  MetricsRegistry r;
  std::atomic<int> in_flight{3};
  r.gauge_callback("tollgate_in_flight_requests", "In flight.", [&] { return in_flight.load(); });
  r.counter_callback("tollgate_traces_dropped_total", "Dropped.", [] { return 7.0; });
  r.gauge_callback("broken", "Throws.", []() -> double { throw std::runtime_error("x"); });
  auto e = parse(r.render());
  EXPECT_EQ(e.get("tollgate_in_flight_requests"), 3);
  EXPECT_EQ(e.type["tollgate_in_flight_requests"], "gauge");
  EXPECT_EQ(e.type["tollgate_traces_dropped_total"], "counter");
  EXPECT_EQ(e.get("tollgate_traces_dropped_total"), 7);
  EXPECT_TRUE(std::isnan(e.get("broken")));
  in_flight = 5;
  EXPECT_EQ(parse(r.render()).get("tollgate_in_flight_requests"), 5);
}

TEST(Metrics, ConcurrentUpdatesAndScrapesLoseNothing) {
  MetricsRegistry r;
  auto& c = r.counter("tollgate_requests_total", "R.", {"model", "status"});
  auto& h = r.histogram("tollgate_request_duration_seconds", "D.", {"model"});
  auto& g = r.gauge("tollgate_deployment_in_flight", "F.", {"deployment"});
  constexpr int kThreads = 8;
  constexpr int kPerThread = 20000;
  std::atomic<bool> done{false};
  std::thread scraper([&] {
    int scrapes = 0;
    while (!done.load() && scrapes < 100000) {
      auto e = parse(r.render());  // every intermediate state is well formed
      ASSERT_FALSE(e.type.empty());
      ++scrapes;
    }
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string model = "m" + std::to_string(t % 3);
      for (int i = 0; i < kPerThread; ++i) {
        c.add({model, i % 2 ? "200" : "500"});
        h.observe({model}, (i % 10) * 0.01);
        g.add({"d"}, 1);
        g.add({"d"}, -1);
      }
    });
  }
  for (auto& t : threads) t.join();
  done = true;
  scraper.join();

  auto e = parse(r.render());
  double total = 0;
  std::uint64_t count = 0;
  for (int m = 0; m < 3; ++m) {
    const std::string model = "m" + std::to_string(m);
    total += e.get("tollgate_requests_total{model=" + model + ",status=200}");
    total += e.get("tollgate_requests_total{model=" + model + ",status=500}");
    count += h.count({model});
  }
  EXPECT_EQ(total, kThreads * kPerThread);
  EXPECT_EQ(count, static_cast<std::uint64_t>(kThreads) * kPerThread);
  // m0 is written by threads 0, 3 and 6.
  EXPECT_EQ(e.get("tollgate_request_duration_seconds_count{model=m0}"), 3 * kPerThread);
  EXPECT_EQ(e.get("tollgate_request_duration_seconds_bucket{model=m0,le=+Inf}"), 3 * kPerThread);
  EXPECT_EQ(e.get("tollgate_request_duration_seconds_bucket{model=m0,le=0.025}"), 3 * kPerThread * 3 / 10);
  EXPECT_EQ(g.value({"d"}), 0);
}

}  // namespace
}  // namespace tollgate
