// The command-line entry points: `kuajing ingest | quota | decide | demo | generate | summarize |
// dues | ledger` (serve and loadgen live in the server layer).
// Each returns the process exit code: 0 success, 1 the work failed, 2 the command line is wrong.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "app/config.h"
#include "app/platform.h"

namespace kuajing::app {

int RunCommand(const std::vector<std::string>& args);

// The parsed command line: options (--name -> value, "1" for flags) and the other words.
struct Args {
  std::map<std::string, std::string> opts;
  std::vector<std::string> files;
  std::vector<std::string> sets;  // every --set section.key=value, in order
  std::string error;              // set if the line could not be parsed
};
Args ParseArgs(const std::vector<std::string>& args, size_t from);

// The platform options a command line asks for (--config, then every --set, then --reference,
// --inspection-rate, --no-random, --seed), for the platform in `data_dir`; the service settings
// too, if `service` is given.
StatusOr<PlatformOptions> OptionsFrom(const Args& a, const std::string& data_dir,
                                      ServiceSettings* service = nullptr);

extern const char* const kUsage;

// A whole number from the command line, at most `max`; nullopt if it is not one.
std::optional<uint64_t> WholeNumber(const std::string& text, uint64_t max);

}  // namespace kuajing::app
