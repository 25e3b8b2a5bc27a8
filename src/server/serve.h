// `kuajing serve`: the platform as an HTTP service.
#pragma once

#include <string>
#include <vector>

namespace kuajing::server {

// Runs until SIGINT or SIGTERM, then drains and stops. Returns the process exit code.
int RunServe(const std::vector<std::string>& args);

}  // namespace kuajing::server
