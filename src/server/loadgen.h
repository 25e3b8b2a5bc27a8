// `kuajing loadgen`: drives a running server with generated clearances over HTTP, as the zone's
// enterprises would, and reports throughput and latency.
#pragma once

#include <string>
#include <vector>

namespace kuajing::server {

int RunLoadgen(const std::vector<std::string>& args);

}  // namespace kuajing::server
