// The zone's configuration file (TOML): the rule parameters a zone may change, each named as in
// clearance::RulesConfig, and the input limits. Unknown keys are errors, so a typo is not silently
// ignored. See config/kuajing.toml for every key with its default and its source.
#pragma once

#include <string>

#include "app/platform.h"

namespace kuajing::app {

// The service's own settings ([server] in the file).
struct ServiceSettings {
  std::string listen = "127.0.0.1:8080";
  int threads = 2;
  int max_connections = 1024;
  int long_poll_max_seconds = 60;
  int quota_queries_per_minute = 20;
  int webhook_max_attempts = 8;
  int webhook_timeout_ms = 5000;
};

// Applies the file at `path` to `options` (and `service`, if given). Fails with InvalidArgument
// naming the key and the problem, or NotFound if the file cannot be read; nothing changes then.
Status LoadConfig(const std::string& path, PlatformOptions* options,
                  ServiceSettings* service = nullptr);

// Applies one setting given as "section.key=value" (the --set flag), so that every key of the
// file is also available on the command line. The value is typed as the file would type it:
// true/false, a whole number, or else a string.
Status ApplySetting(const std::string& assignment, PlatformOptions* options,
                    ServiceSettings* service);

}  // namespace kuajing::app
