// `kuajing loadgen`: drives a running server with generated clearances over HTTP, as the zone's
// enterprises would, and reports throughput and latency.
#pragma once

#include <string>
#include <vector>

namespace kuajing::server {

int RunLoadgen(const std::vector<std::string>& args);

// `kuajing simulate`: a zone's realistic traffic into a data folder, a server or files
// (src/server/simulate_cmd.cc, docs/SIMULATE.md).
int RunSimulate(const std::vector<std::string>& args);

}  // namespace kuajing::server
