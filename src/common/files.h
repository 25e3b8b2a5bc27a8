// Small helpers for files the store and the engines' snapshot make durable.
#pragma once

#include <string>

#include "common/status.h"

namespace kuajing {

// Flushes the entries of the folder `dir` (fsync of the folder): a file created in it or renamed
// into it survives a power loss only after this returns OK.
Status SyncDir(const std::string& dir);

}  // namespace kuajing
