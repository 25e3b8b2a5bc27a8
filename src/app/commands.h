// The command-line entry points: `kuajing ingest | quota | decide | demo`.
// Each returns the process exit code: 0 success, 1 the work failed, 2 the command line is wrong.
#pragma once

#include <string>
#include <vector>

namespace kuajing::app {

int RunCommand(const std::vector<std::string>& args);

}  // namespace kuajing::app
