// A duration histogram for /metrics: fixed upper bounds in seconds, counted without a lock (each
// observation is three relaxed atomic adds), written in Prometheus's text format (cumulative
// `_bucket` series with `le`, then `_sum` and `_count`).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace kuajing {

class DurationHistogram {
 public:
  static constexpr size_t kMaxBounds = 15;
  // From a tenth of a millisecond (an fdatasync on a fast disk) to two seconds.
  static constexpr std::array<double, 14> kFineBounds = {
      0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2};

  // `bounds`: increasing, at most kMaxBounds, alive as long as the histogram (a constant).
  explicit DurationHistogram(std::span<const double> bounds = kFineBounds) : bounds_(bounds) {
    if (bounds_.size() > kMaxBounds) bounds_ = bounds_.first(kMaxBounds);
  }

  void Observe(std::chrono::nanoseconds d) {
    const double seconds = std::chrono::duration<double>(d).count();
    size_t b = 0;
    while (b < bounds_.size() && seconds > bounds_[b]) ++b;
    buckets_[b].fetch_add(1, std::memory_order_relaxed);
    sum_ns_.fetch_add(static_cast<uint64_t>(d.count() > 0 ? d.count() : 0),
                      std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
  }

  // Appends the series `name`_bucket{le=...}, `name`_sum and `name`_count, after HELP and TYPE
  // lines. Read while others observe, the buckets and the count may disagree by the observations
  // in flight; each is exact by itself.
  void AppendPrometheus(std::string& out, std::string_view name, std::string_view help) const {
    out.append("# HELP ").append(name).append(" ").append(help).append("\n# TYPE ");
    out.append(name).append(" histogram\n");
    uint64_t cumulative = 0;
    for (size_t i = 0; i <= bounds_.size(); ++i) {
      cumulative += buckets_[i].load(std::memory_order_relaxed);
      out.append(name).append("_bucket{le=\"");
      out.append(i < bounds_.size() ? FormatBound(bounds_[i]) : std::string("+Inf"));
      out.append("\"} ").append(std::to_string(cumulative)).append("\n");
    }
    out.append(name).append("_sum ");
    out.append(FormatSeconds(sum_ns_.load(std::memory_order_relaxed))).append("\n");
    out.append(name).append("_count ");
    out.append(std::to_string(count_.load(std::memory_order_relaxed))).append("\n");
  }

  uint64_t count() const { return count_.load(std::memory_order_relaxed); }

 private:
  // A bound as Prometheus clients write it: the shortest decimal ("0.0001", "2").
  static std::string FormatBound(double v) {
    std::string s = std::to_string(v);  // six decimals: every bound above is exact in them
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
  }
  static std::string FormatSeconds(uint64_t ns) {
    std::string frac = std::to_string(ns % 1'000'000'000);
    return std::to_string(ns / 1'000'000'000) + "." + std::string(9 - frac.size(), '0') + frac;
  }

  std::span<const double> bounds_;
  std::array<std::atomic<uint64_t>, kMaxBounds + 1> buckets_{};
  std::atomic<uint64_t> sum_ns_{0};
  std::atomic<uint64_t> count_{0};
};

}  // namespace kuajing
