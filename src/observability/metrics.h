#pragma once
// Prometheus metrics: a registry of counter, gauge and histogram families,
// rendered in the text exposition format 0.0.4 for GET /metrics.
//
//   MetricsRegistry registry;
//   auto& requests = registry.counter("tollgate_requests_total", "Requests served.", {"model", "status"});
//   auto& latency = registry.histogram("tollgate_request_duration_seconds", "Total latency.", {"model"});
//   requests.add({"gpt-4o", "200"});              // hot path, from any thread
//   latency.observe({"gpt-4o"}, 0.42);
//   std::string text = registry.render();         // scrape
//
// Families are created once (at start-up) and live as long as the registry;
// the references returned stay valid. Updating a series is thread-safe and
// takes one short per-family lock; when the series already exists it does not
// allocate. A series appears in the output from its first update, except in a
// family without labels, whose single series exists (at 0) from the start.
//
// Label values are passed in the order of the family's label names, either as
// a braced list of string views or as a span of strings (a vector works).
// Passing the wrong number of values is a programming error and throws
// std::invalid_argument.
//
// Cardinality guard: a family holds at most `max_series_per_family` series
// (0: no limit). Once full, an update for a new combination of label values
// is folded into one overflow series whose label values are all "other"
// (that series may be the one over the limit). The first fold in a family
// logs a warning; folded() counts the folded updates. This keeps a client
// that invents model names from growing the registry without bound. Every
// label value is also cut to kMaxLabelValueBytes.

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tollgate {

// Latency buckets in seconds (issue 5): 5 ms to 5 minutes.
inline constexpr std::array<double, 15> kDefaultBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                                           2.5,   5,    10,    30,   60,  120, 300};
std::vector<double> default_buckets();

inline constexpr std::size_t kDefaultMaxSeriesPerFamily = 10000;
// A label value longer than this is cut to it (whatever its source).
inline constexpr std::size_t kMaxLabelValueBytes = 128;

// Label values of one series, in label-name order. A view: valid only for the
// call it is passed to.
using LabelList = std::initializer_list<std::string_view>;

class MetricFamily {
 public:
  enum class Type { counter, gauge, histogram };

  virtual ~MetricFamily();
  MetricFamily(const MetricFamily&) = delete;
  MetricFamily& operator=(const MetricFamily&) = delete;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  Type type() const { return type_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

  virtual std::size_t series_count() const = 0;
  // Updates folded into the "other" series by the cardinality guard.
  virtual std::uint64_t folded() const { return 0; }

  // Appends this family (# HELP, # TYPE and its series) to `out`.
  virtual void render(std::string& out) const = 0;

 protected:
  MetricFamily(std::string name, std::string help, Type type, std::vector<std::string> label_names);

 private:
  std::string name_;
  std::string help_;
  Type type_;
  std::vector<std::string> label_names_;
};

// Monotonic. Negative and NaN increments are ignored (a counter never goes
// down; a bad value must not poison the total).
class Counter final : public MetricFamily {
 public:
  ~Counter() override;
  void add(LabelList labels, double v = 1.0);
  void add(std::span<const std::string> labels, double v = 1.0);
  void add(double v = 1.0) { add(LabelList{}, v); }
  // The series' value, 0 if it does not exist. For tests and diagnostics.
  double value(LabelList labels) const;

  std::size_t series_count() const override;
  std::uint64_t folded() const override;
  void render(std::string& out) const override;

 private:
  friend class MetricsRegistry;
  struct Impl;
  Counter(std::string name, std::string help, std::vector<std::string> label_names, std::size_t max_series);
  std::unique_ptr<Impl> impl_;
};

class Gauge final : public MetricFamily {
 public:
  ~Gauge() override;
  void set(LabelList labels, double v);
  void set(std::span<const std::string> labels, double v);
  void set(double v) { set(LabelList{}, v); }
  // Adds `delta` (may be negative): in-flight style gauges.
  void add(LabelList labels, double delta);
  void add(std::span<const std::string> labels, double delta);
  // Drops a series (e.g. a deployment removed by a reload); no-op if absent.
  void remove(LabelList labels);
  void remove(std::span<const std::string> labels);
  double value(LabelList labels) const;

  std::size_t series_count() const override;
  std::uint64_t folded() const override;
  void render(std::string& out) const override;

 private:
  friend class MetricsRegistry;
  struct Impl;
  Gauge(std::string name, std::string help, std::vector<std::string> label_names, std::size_t max_series);
  std::unique_ptr<Impl> impl_;
};

// Buckets are upper bounds (le), strictly increasing and finite; +Inf is
// implicit. NaN observations are ignored.
class Histogram final : public MetricFamily {
 public:
  ~Histogram() override;
  void observe(LabelList labels, double v);
  void observe(std::span<const std::string> labels, double v);
  void observe(double v) { observe(LabelList{}, v); }
  const std::vector<double>& buckets() const { return buckets_; }
  // Count and sum of a series, 0 if it does not exist.
  std::uint64_t count(LabelList labels) const;
  double sum(LabelList labels) const;

  std::size_t series_count() const override;
  std::uint64_t folded() const override;
  void render(std::string& out) const override;

 private:
  friend class MetricsRegistry;
  struct Impl;
  Histogram(std::string name, std::string help, std::vector<std::string> label_names, std::vector<double> buckets,
            std::size_t max_series);
  std::vector<double> buckets_;
  std::unique_ptr<Impl> impl_;
};

// Thread-safe. Registration (counter(), ...) takes the registry lock and may
// allocate; it is meant for start-up. Registering a name again with the same
// type and label names (and buckets) returns the existing family; with a
// different shape, or an invalid metric or label name, it throws
// std::invalid_argument.
class MetricsRegistry {
 public:
  explicit MetricsRegistry(std::size_t max_series_per_family = kDefaultMaxSeriesPerFamily);
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  Counter& counter(const std::string& name, const std::string& help, std::vector<std::string> label_names = {});
  Gauge& gauge(const std::string& name, const std::string& help, std::vector<std::string> label_names = {});
  Histogram& histogram(const std::string& name, const std::string& help, std::vector<std::string> label_names = {},
                       std::vector<double> buckets = default_buckets());

  // Unlabelled series whose value is read at scrape time (in-flight requests,
  // spool bytes, a component's own drop counter). `read` is called from the
  // scraping thread without registry locks held, so it must be thread-safe
  // and must not register metrics; if it throws, the sample is NaN.
  void gauge_callback(const std::string& name, const std::string& help, std::function<double()> read);
  void counter_callback(const std::string& name, const std::string& help, std::function<double()> read);

  // The exposition text (format 0.0.4): families sorted by name, series by
  // label values, so equal states render equal bytes. Empty registry: "".
  std::string render() const;

  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

 private:
  std::size_t max_series_;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<MetricFamily>, std::less<>> families_;
};

}  // namespace tollgate
