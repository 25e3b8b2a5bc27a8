#include "app/config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace kuajing::app {
namespace {

namespace fs = std::filesystem;

// The file each test writes, removed when the test's process ends (it was left in /tmp).
struct WrittenFile {
  fs::path path = fs::temp_directory_path() / ("kj-config-" + std::to_string(::getpid()) + ".toml");
  ~WrittenFile() {
    std::error_code ignored;
    fs::remove(path, ignored);
  }
};

std::string Write(const std::string& text) {
  static const WrittenFile file;
  std::ofstream(file.path) << text;
  return file.path.string();
}

TEST(Config, TheShippedFileHoldsTheDefaults) {
  PlatformOptions o;
  ASSERT_TRUE(LoadConfig(KJ_SOURCE_DIR "/config/kuajing.toml", &o).ok());
  const clearance::RulesConfig d;
  EXPECT_EQ(o.rules.single_limit, d.single_limit);
  EXPECT_EQ(o.rules.annual_limit, d.annual_limit);
  EXPECT_EQ(o.rules.reduction, d.reduction);
  EXPECT_EQ(o.rules.return_window_days, d.return_window_days);
  EXPECT_EQ(o.rules.line_total_tolerance, d.line_total_tolerance);
  EXPECT_EQ(o.rules.random_inspection_rate, d.random_inspection_rate);
  EXPECT_EQ(o.rules.default_customs_code, d.default_customs_code);
  EXPECT_EQ(o.rules.exports.arrival_required_modes, d.exports.arrival_required_modes);
  EXPECT_EQ(o.rules.exports.return_window_days, d.exports.return_window_days);
  EXPECT_EQ(o.rules.exports.summary_deadline_day, d.exports.summary_deadline_day);
  EXPECT_EQ(o.rules.exports.summary_max_lines, d.exports.summary_max_lines);
  EXPECT_EQ(o.rules.exports.summary_decl_state, d.exports.summary_decl_state);
  EXPECT_EQ(o.limits.max_message_bytes, codec::DecodeOptions{}.max_message_bytes);
  EXPECT_TRUE(fs::exists(fs::path(o.reference_dir) / "goods.csv")) << o.reference_dir;
  EXPECT_TRUE(fs::exists(o.risk_rules_path)) << o.risk_rules_path;
  EXPECT_FALSE(o.rules.risk_reasons_in_receipts);
}

TEST(Config, ChangesWhatItNamesAndRefusesTypos) {
  PlatformOptions o;
  ASSERT_TRUE(
      LoadConfig(Write("[rules]\nannual_limit = \"20000\"\nrandom_inspection_rate = \"0.05\"\n"
                       "review_single_item_over_limit = false\n"),
                 &o)
          .ok());
  EXPECT_EQ(o.rules.annual_limit, Decimal::FromUnits(20000));
  EXPECT_EQ(o.rules.random_inspection_rate.ToString(), "0.05");
  EXPECT_FALSE(o.rules.review_single_item_over_limit);

  PlatformOptions before = o;
  Status s = LoadConfig(Write("[rules]\nanual_limit = \"1\"\n"), &o);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("rules.anual_limit: unknown key"), std::string::npos);
  EXPECT_FALSE(LoadConfig(Write("[rules]\nreduction = 0.7\n"), &o).ok());  // a float is not exact
  EXPECT_FALSE(LoadConfig(Write("[rules]\nreduction = \"1.5\"\n"), &o).ok());
  EXPECT_FALSE(LoadConfig(Write("[rules]\nreturn_window_days = -1\n"), &o).ok());
  EXPECT_FALSE(LoadConfig(Write("[rules\n"), &o).ok());
  EXPECT_FALSE(LoadConfig(Write("[export]\narrival_required_modes = \"9610,0110\"\n"), &o).ok());
  EXPECT_FALSE(LoadConfig(Write("[export]\nsummary_deadline_day = 31\n"), &o).ok());
  EXPECT_EQ(LoadConfig("/nonexistent.toml", &o).code(), StatusCode::kNotFound);
  EXPECT_EQ(o.rules.annual_limit, before.rules.annual_limit) << "a failed load changes nothing";
}

TEST(Config, EverySettingIsAlsoAFlag) {
  PlatformOptions o;
  ServiceSettings svc;
  ASSERT_TRUE(LoadConfig(KJ_SOURCE_DIR "/config/kuajing.toml", &o, &svc).ok());
  EXPECT_EQ(svc.listen, "127.0.0.1:8080");
  ASSERT_TRUE(ApplySetting("server.threads=4", &o, &svc).ok());
  ASSERT_TRUE(ApplySetting("rules.reduction=0.5", &o, &svc).ok());
  ASSERT_TRUE(ApplySetting("rules.review_single_item_over_limit=false", &o, &svc).ok());
  ASSERT_TRUE(ApplySetting("rules.annual_limit=30000", &o, &svc).ok());
  EXPECT_EQ(svc.threads, 4);
  EXPECT_EQ(o.rules.reduction.ToString(), "0.5");
  EXPECT_FALSE(o.rules.review_single_item_over_limit);
  EXPECT_EQ(o.rules.annual_limit, Decimal::FromUnits(30000));
  EXPECT_FALSE(ApplySetting("server.threads=0", &o, &svc).ok());
  EXPECT_FALSE(ApplySetting("nosuch.key=1", &o, &svc).ok());
  EXPECT_FALSE(ApplySetting("threads", &o, &svc).ok());
}

}  // namespace
}  // namespace kuajing::app
