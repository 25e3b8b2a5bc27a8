// Small helpers shared by the golden and integration tests.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

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

// A directory of the test's own under the system's temporary directory (`prefix` and the process
// id), empty at the start and removed with all it holds when the object goes: also when a failed
// ASSERT leaves the test early, which left stores behind in /tmp before.
class ScopedTempDir {
 public:
  explicit ScopedTempDir(std::string_view prefix)
      : path_(std::filesystem::temp_directory_path() /
              (std::string(prefix) + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path_);
  }
  ~ScopedTempDir() {
    std::error_code ignored;  // a destructor does not throw; what is left is only litter
    std::filesystem::remove_all(path_, ignored);
  }
  ScopedTempDir(const ScopedTempDir&) = delete;
  ScopedTempDir& operator=(const ScopedTempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace kuajing::testing
