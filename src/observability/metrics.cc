#include "observability/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>
#include <stdexcept>

#include <spdlog/spdlog.h>

namespace tollgate {
namespace {

// Orders stored label vectors and lets find() take a list of string views or
// a span of strings, so looking up an existing series does not allocate.
struct LabelsLess {
  using is_transparent = void;
  template <class A, class B>
  bool operator()(const A& a, const B& b) const {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                        [](std::string_view x, std::string_view y) { return x < y; });
  }
};

// One family's series: label values -> cell, behind one mutex. A std::map
// keeps render order sorted for free, and its nodes never move, so the cost
// of an update is one lock and O(log n) string compares.
template <class Cell>
class SeriesMap {
 public:
  SeriesMap(const MetricFamily& family, std::size_t max_series, Cell blank)
      : family_(family), max_series_(max_series), blank_(std::move(blank)) {
    if (family.label_names().empty()) series_.emplace(std::vector<std::string>{}, blank_);
  }

  template <class Labels, class F>
  void update(const Labels& labels, F&& f) {
    check_arity(labels.size());
    std::lock_guard lk(mu_);
    auto it = series_.find(labels);
    if (it == series_.end()) it = insert(labels);
    f(it->second);
  }

  // f(const Cell*) with nullptr when the series does not exist.
  template <class Labels, class F>
  auto read(const Labels& labels, F&& f) const {
    check_arity(labels.size());
    std::lock_guard lk(mu_);
    auto it = series_.find(labels);
    return f(it == series_.end() ? nullptr : &it->second);
  }

  template <class Labels>
  void erase(const Labels& labels) {
    check_arity(labels.size());
    std::lock_guard lk(mu_);
    if (auto it = series_.find(labels); it != series_.end() && !family_.label_names().empty()) series_.erase(it);
  }

  // f(label values, cell) for every series in order, under the lock.
  template <class F>
  void for_each(F&& f) const {
    std::lock_guard lk(mu_);
    for (const auto& [labels, cell] : series_) f(labels, cell);
  }

  std::size_t size() const {
    std::lock_guard lk(mu_);
    return series_.size();
  }
  std::uint64_t folded() const {
    std::lock_guard lk(mu_);
    return folded_;
  }

  void check_arity(std::size_t n) const {
    if (n != family_.label_names().size())
      throw std::invalid_argument("metric " + family_.name() + ": expected " +
                                  std::to_string(family_.label_names().size()) + " label values, got " +
                                  std::to_string(n));
  }

 private:
  using Map = std::map<std::vector<std::string>, Cell, LabelsLess>;

  template <class Labels>
  typename Map::iterator insert(const Labels& labels) {
    std::vector<std::string> values(labels.begin(), labels.end());
    bool cut = false;
    for (auto& v : values) {
      if (v.size() > kMaxLabelValueBytes) {
        v.resize(kMaxLabelValueBytes);
        cut = true;
      }
    }
    if (cut) {
      if (auto it = series_.find(values); it != series_.end()) return it;
    }
    if (max_series_ == 0 || series_.size() < max_series_) return series_.emplace(std::move(values), blank_).first;
    if (folded_++ == 0)
      spdlog::warn("metric {} reached {} series; new label values are counted under \"other\"", family_.name(),
                   max_series_);
    std::vector<std::string> other(family_.label_names().size(), "other");
    auto it = series_.find(other);
    return it != series_.end() ? it : series_.emplace(std::move(other), blank_).first;
  }

  const MetricFamily& family_;
  const std::size_t max_series_;
  const Cell blank_;
  mutable std::mutex mu_;
  Map series_;
  std::uint64_t folded_ = 0;
};

// ---- text format -------------------------------------------------------------

void append_number(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else {
    // Integral values print without exponent or fraction (counts, bytes);
    // anything else in the shortest form that reads back exactly.
    char buf[32];
    std::to_chars_result r;
    if (v == std::trunc(v) && std::fabs(v) < 1e15)
      r = std::to_chars(buf, buf + sizeof buf, static_cast<long long>(v));
    else
      r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
  }
}

void append_help(std::string& out, std::string_view name, std::string_view help, std::string_view type) {
  out += "# HELP ";
  out += name;
  out += ' ';
  for (char c : help) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void append_label_value(std::string& out, std::string_view v) {
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
}

// name{a="x",b="y"[,le="0.5"]} value
void append_sample(std::string& out, std::string_view name, const std::vector<std::string>& label_names,
                   const std::vector<std::string>& values, double value, const char* le = nullptr) {
  out += name;
  if (!label_names.empty() || le) {
    out += '{';
    for (std::size_t i = 0; i < label_names.size(); ++i) {
      if (i) out += ',';
      out += label_names[i];
      out += "=\"";
      append_label_value(out, values[i]);
      out += '"';
    }
    if (le) {
      if (!label_names.empty()) out += ',';
      out += "le=\"";
      out += le;
      out += '"';
    }
    out += '}';
  }
  out += ' ';
  append_number(out, value);
  out += '\n';
}

const char* type_name(MetricFamily::Type t) {
  switch (t) {
    case MetricFamily::Type::counter: return "counter";
    case MetricFamily::Type::gauge: return "gauge";
    case MetricFamily::Type::histogram: return "histogram";
  }
  return "untyped";
}

// ---- validation --------------------------------------------------------------

bool valid_metric_name(std::string_view n) {
  if (n.empty()) return false;
  for (std::size_t i = 0; i < n.size(); ++i) {
    char c = n[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' || (i && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

void validate(const std::string& name, const std::vector<std::string>& label_names, bool histogram) {
  if (!valid_metric_name(name)) throw std::invalid_argument("invalid metric name \"" + name + "\"");
  std::set<std::string_view> seen;
  for (const auto& l : label_names) {
    if (!valid_metric_name(l) || l.find(':') != std::string::npos || l.starts_with("__"))
      throw std::invalid_argument("metric " + name + ": invalid label name \"" + l + "\"");
    if (histogram && l == "le") throw std::invalid_argument("metric " + name + ": label \"le\" is reserved");
    if (!seen.insert(l).second) throw std::invalid_argument("metric " + name + ": duplicate label \"" + l + "\"");
  }
}

// Reads a callback's value at scrape time.
class CallbackFamily final : public MetricFamily {
 public:
  CallbackFamily(std::string name, std::string help, Type type, std::function<double()> read)
      : MetricFamily(std::move(name), std::move(help), type, {}), read_(std::move(read)) {}

  std::size_t series_count() const override { return 1; }
  void render(std::string& out) const override {
    double v;
    try {
      v = read_();
    } catch (...) {
      v = std::nan("");
    }
    append_help(out, name(), help(), type_name(type()));
    append_sample(out, name(), {}, {}, v);
  }

 private:
  std::function<double()> read_;
};

struct HistogramCell {
  std::vector<std::uint64_t> counts;  // per bucket, not cumulative; last is +Inf
  double sum = 0;
  std::uint64_t count = 0;
};

}  // namespace

std::vector<double> default_buckets() { return {kDefaultBuckets.begin(), kDefaultBuckets.end()}; }

MetricFamily::MetricFamily(std::string name, std::string help, Type type, std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), type_(type), label_names_(std::move(label_names)) {}

MetricFamily::~MetricFamily() = default;

// ---- Counter -----------------------------------------------------------------

struct Counter::Impl {
  SeriesMap<double> series;
};

Counter::Counter(std::string name, std::string help, std::vector<std::string> label_names, std::size_t max_series)
    : MetricFamily(std::move(name), std::move(help), Type::counter, std::move(label_names)),
      impl_(new Impl{SeriesMap<double>(*this, max_series, 0.0)}) {}

Counter::~Counter() = default;

void Counter::add(LabelList labels, double v) {
  impl_->series.check_arity(labels.size());  // a wrong call fails even with a value it would ignore
  if (v >= 0) impl_->series.update(labels, [v](double& c) { c += v; });
}

void Counter::add(std::span<const std::string> labels, double v) {
  impl_->series.check_arity(labels.size());
  if (v >= 0) impl_->series.update(labels, [v](double& c) { c += v; });
}

double Counter::value(LabelList labels) const {
  return impl_->series.read(labels, [](const double* c) { return c ? *c : 0.0; });
}

std::size_t Counter::series_count() const { return impl_->series.size(); }
std::uint64_t Counter::folded() const { return impl_->series.folded(); }

void Counter::render(std::string& out) const {
  append_help(out, name(), help(), "counter");
  impl_->series.for_each([&](const auto& labels, double v) { append_sample(out, name(), label_names(), labels, v); });
}

// ---- Gauge -------------------------------------------------------------------

struct Gauge::Impl {
  SeriesMap<double> series;
};

Gauge::Gauge(std::string name, std::string help, std::vector<std::string> label_names, std::size_t max_series)
    : MetricFamily(std::move(name), std::move(help), Type::gauge, std::move(label_names)),
      impl_(new Impl{SeriesMap<double>(*this, max_series, 0.0)}) {}

Gauge::~Gauge() = default;

void Gauge::set(LabelList labels, double v) {
  impl_->series.update(labels, [v](double& c) { c = v; });
}
void Gauge::set(std::span<const std::string> labels, double v) {
  impl_->series.update(labels, [v](double& c) { c = v; });
}
void Gauge::add(LabelList labels, double delta) {
  impl_->series.update(labels, [delta](double& c) { c += delta; });
}
void Gauge::add(std::span<const std::string> labels, double delta) {
  impl_->series.update(labels, [delta](double& c) { c += delta; });
}
void Gauge::remove(LabelList labels) { impl_->series.erase(labels); }
void Gauge::remove(std::span<const std::string> labels) { impl_->series.erase(labels); }

double Gauge::value(LabelList labels) const {
  return impl_->series.read(labels, [](const double* c) { return c ? *c : 0.0; });
}

std::size_t Gauge::series_count() const { return impl_->series.size(); }
std::uint64_t Gauge::folded() const { return impl_->series.folded(); }

void Gauge::render(std::string& out) const {
  append_help(out, name(), help(), "gauge");
  impl_->series.for_each([&](const auto& labels, double v) { append_sample(out, name(), label_names(), labels, v); });
}

// ---- Histogram ---------------------------------------------------------------

struct Histogram::Impl {
  SeriesMap<HistogramCell> series;
  std::vector<std::string> le;  // formatted bounds, then "+Inf"
};

Histogram::Histogram(std::string name, std::string help, std::vector<std::string> label_names,
                     std::vector<double> buckets, std::size_t max_series)
    : MetricFamily(std::move(name), std::move(help), Type::histogram, std::move(label_names)),
      buckets_(std::move(buckets)) {
  HistogramCell blank;
  blank.counts.assign(buckets_.size() + 1, 0);
  impl_.reset(new Impl{SeriesMap<HistogramCell>(*this, max_series, std::move(blank)), {}});
  for (double b : buckets_) {
    std::string s;
    append_number(s, b);
    impl_->le.push_back(std::move(s));
  }
  impl_->le.push_back("+Inf");
}

Histogram::~Histogram() = default;

namespace {
template <class Labels>
void observe_into(SeriesMap<HistogramCell>& series, const std::vector<double>& bounds, const Labels& labels,
                  double v) {
  if (std::isnan(v)) return;
  // First bound >= v: the bucket whose le the value falls under. Found
  // before taking the lock.
  auto idx = static_cast<std::size_t>(std::lower_bound(bounds.begin(), bounds.end(), v) - bounds.begin());
  series.update(labels, [&](HistogramCell& c) {
    ++c.counts[idx];
    c.sum += v;
    ++c.count;
  });
}
}  // namespace

void Histogram::observe(LabelList labels, double v) { observe_into(impl_->series, buckets_, labels, v); }
void Histogram::observe(std::span<const std::string> labels, double v) {
  observe_into(impl_->series, buckets_, labels, v);
}

std::uint64_t Histogram::count(LabelList labels) const {
  return impl_->series.read(labels, [](const HistogramCell* c) { return c ? c->count : std::uint64_t{0}; });
}
double Histogram::sum(LabelList labels) const {
  return impl_->series.read(labels, [](const HistogramCell* c) { return c ? c->sum : 0.0; });
}

std::size_t Histogram::series_count() const { return impl_->series.size(); }
std::uint64_t Histogram::folded() const { return impl_->series.folded(); }

void Histogram::render(std::string& out) const {
  append_help(out, name(), help(), "histogram");
  const std::string bucket = name() + "_bucket";
  const std::string sum = name() + "_sum";
  const std::string count = name() + "_count";
  impl_->series.for_each([&](const auto& labels, const HistogramCell& c) {
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < c.counts.size(); ++i) {
      cumulative += c.counts[i];
      append_sample(out, bucket, label_names(), labels, static_cast<double>(cumulative), impl_->le[i].c_str());
    }
    append_sample(out, sum, label_names(), labels, c.sum);
    append_sample(out, count, label_names(), labels, static_cast<double>(c.count));
  });
}

// ---- MetricsRegistry ---------------------------------------------------------

MetricsRegistry::MetricsRegistry(std::size_t max_series_per_family) : max_series_(max_series_per_family) {}
MetricsRegistry::~MetricsRegistry() = default;

namespace {
[[noreturn]] void conflict(const std::string& name) {
  throw std::invalid_argument("metric " + name + " is already registered with a different type or labels");
}
}  // namespace

Counter& MetricsRegistry::counter(const std::string& name, const std::string& help,
                                  std::vector<std::string> label_names) {
  validate(name, label_names, false);
  std::lock_guard lk(mu_);
  if (auto it = families_.find(name); it != families_.end()) {
    auto* c = dynamic_cast<Counter*>(it->second.get());
    if (!c || c->label_names() != label_names) conflict(name);
    return *c;
  }
  auto* c = new Counter(name, help, std::move(label_names), max_series_);
  families_.emplace(name, std::unique_ptr<MetricFamily>(c));
  return *c;
}

Gauge& MetricsRegistry::gauge(const std::string& name, const std::string& help, std::vector<std::string> label_names) {
  validate(name, label_names, false);
  std::lock_guard lk(mu_);
  if (auto it = families_.find(name); it != families_.end()) {
    auto* g = dynamic_cast<Gauge*>(it->second.get());
    if (!g || g->label_names() != label_names) conflict(name);
    return *g;
  }
  auto* g = new Gauge(name, help, std::move(label_names), max_series_);
  families_.emplace(name, std::unique_ptr<MetricFamily>(g));
  return *g;
}

Histogram& MetricsRegistry::histogram(const std::string& name, const std::string& help,
                                      std::vector<std::string> label_names, std::vector<double> buckets) {
  validate(name, label_names, true);
  if (!buckets.empty() && std::isinf(buckets.back()) && buckets.back() > 0) buckets.pop_back();
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    if (!std::isfinite(buckets[i]) || (i && !(buckets[i] > buckets[i - 1])))
      throw std::invalid_argument("metric " + name + ": buckets must be finite and strictly increasing");
  }
  std::lock_guard lk(mu_);
  if (auto it = families_.find(name); it != families_.end()) {
    auto* h = dynamic_cast<Histogram*>(it->second.get());
    if (!h || h->label_names() != label_names || h->buckets() != buckets) conflict(name);
    return *h;
  }
  auto* h = new Histogram(name, help, std::move(label_names), std::move(buckets), max_series_);
  families_.emplace(name, std::unique_ptr<MetricFamily>(h));
  return *h;
}

void MetricsRegistry::gauge_callback(const std::string& name, const std::string& help, std::function<double()> read) {
  validate(name, {}, false);
  std::lock_guard lk(mu_);
  if (families_.count(name)) conflict(name);
  families_.emplace(name, std::make_unique<CallbackFamily>(name, help, MetricFamily::Type::gauge, std::move(read)));
}

void MetricsRegistry::counter_callback(const std::string& name, const std::string& help,
                                       std::function<double()> read) {
  validate(name, {}, false);
  std::lock_guard lk(mu_);
  if (families_.count(name)) conflict(name);
  families_.emplace(name, std::make_unique<CallbackFamily>(name, help, MetricFamily::Type::counter, std::move(read)));
}

std::string MetricsRegistry::render() const {
  // Families are never removed, so the pointers outlive the registry lock;
  // callbacks then run without it.
  std::vector<const MetricFamily*> families;
  {
    std::lock_guard lk(mu_);
    families.reserve(families_.size());
    for (const auto& [name, f] : families_) families.push_back(f.get());
  }
  std::string out;
  for (const auto* f : families) f->render(out);
  return out;
}

}  // namespace tollgate
