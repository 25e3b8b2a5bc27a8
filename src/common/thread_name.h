// Names the calling thread (at most 15 characters), so that `top -H`, perf and /proc show which of
// the server's threads spends the time: "kj-writer", "kj-syncer", "kj-http", ...
#pragma once

#include <pthread.h>

namespace kuajing {

inline void NameThisThread(const char* name) { pthread_setname_np(pthread_self(), name); }

}  // namespace kuajing
