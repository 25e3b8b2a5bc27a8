// Small helpers shared by the golden and integration tests.
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace kuajing::testing {

// The whole file, or "" if it cannot be read.
inline std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace kuajing::testing
