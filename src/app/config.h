// The zone's configuration file (TOML): the rule parameters a zone may change, each named as in
// clearance::RulesConfig, and the input limits. Unknown keys are errors, so a typo is not silently
// ignored. See config/kuajing.toml for every key with its default and its source.
#pragma once

#include <string>

#include "app/platform.h"

namespace kuajing::app {

// Applies the file at `path` to `options`. Fails with InvalidArgument naming the key and the
// problem, or NotFound if the file cannot be read; `options` is unchanged then.
Status LoadConfig(const std::string& path, PlatformOptions* options);

}  // namespace kuajing::app
