// Small helpers shared by the golden and integration tests.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "reference/reference_data.h"

namespace kuajing::testing {

// The whole file, or "" if it cannot be read.
inline std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The shipped reference data (data/reference), for tests that need registered enterprises.
inline reference::ReferenceData ShippedReference() {
  auto r = reference::ReferenceData::LoadDir(KJ_SOURCE_DIR "/data/reference");
  if (!r.ok()) std::abort();
  return std::move(*r);
}

}  // namespace kuajing::testing
