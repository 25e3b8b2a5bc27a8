#include "common/histogram.h"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace kuajing {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

TEST(DurationHistogram, CountsEachDurationInTheFirstBucketItFits) {
  static constexpr std::array<double, 3> kBounds = {0.001, 0.01, 0.1};
  DurationHistogram h(kBounds);
  h.Observe(microseconds(500));  // le 0.001
  h.Observe(milliseconds(1));    // exactly on a bound: that bucket (Prometheus's le)
  h.Observe(milliseconds(5));    // le 0.01
  h.Observe(milliseconds(250));  // beyond the last bound: +Inf only
  std::string out;
  h.AppendPrometheus(out, "x_seconds", "What x takes.");
  EXPECT_EQ(out,
            "# HELP x_seconds What x takes.\n"
            "# TYPE x_seconds histogram\n"
            "x_seconds_bucket{le=\"0.001\"} 2\n"
            "x_seconds_bucket{le=\"0.01\"} 3\n"
            "x_seconds_bucket{le=\"0.1\"} 3\n"
            "x_seconds_bucket{le=\"+Inf\"} 4\n"
            "x_seconds_sum 0.256500000\n"
            "x_seconds_count 4\n");
  EXPECT_EQ(h.count(), 4u);
}

TEST(DurationHistogram, WritesTheFineBoundsShortest) {
  DurationHistogram h;
  h.Observe(std::chrono::seconds(3));
  std::string out;
  h.AppendPrometheus(out, "y_seconds", "Y.");
  EXPECT_NE(out.find("y_seconds_bucket{le=\"0.0001\"} 0\n"), std::string::npos) << out;
  EXPECT_NE(out.find("y_seconds_bucket{le=\"0.0005\"} 0\n"), std::string::npos);
  EXPECT_NE(out.find("y_seconds_bucket{le=\"2\"} 0\n"), std::string::npos);
  EXPECT_NE(out.find("y_seconds_bucket{le=\"+Inf\"} 1\n"), std::string::npos);
  EXPECT_NE(out.find("y_seconds_sum 3.000000000\n"), std::string::npos);
}

TEST(DurationHistogram, LosesNoObservationToConcurrentWriters) {
  DurationHistogram h;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&h, t] {
      for (int i = 0; i < 10000; ++i) h.Observe(microseconds(100 * (t + 1)));
    });
  }
  for (auto& t : threads) t.join();
  std::string out;
  h.AppendPrometheus(out, "z_seconds", "Z.");
  EXPECT_NE(out.find("z_seconds_bucket{le=\"0.0001\"} 10000\n"), std::string::npos) << out;
  EXPECT_NE(out.find("z_seconds_bucket{le=\"0.0002\"} 20000\n"), std::string::npos);
  EXPECT_NE(out.find("z_seconds_bucket{le=\"0.0005\"} 40000\n"), std::string::npos);
  EXPECT_NE(out.find("z_seconds_sum 10.000000000\n"), std::string::npos);
  EXPECT_EQ(h.count(), 40000u);
}

}  // namespace
}  // namespace kuajing
