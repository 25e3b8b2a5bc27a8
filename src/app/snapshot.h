// The engines' snapshot: a file beside the store (DIR/engine.snapshot) holding what start-up
// would otherwise rebuild by reading, unpacking and decoding every list the zone ever stored
// (issue 7, goal 5: 48-59 s at 10 M documents, growing with the history). It holds the import
// engine's annual amounts and names, the fingerprints and counts of the clearances out of memory,
// its risk windows and numbering, the keys of the rows it holds in memory, and the statistics
// (clearance::Engine::SaveSnapshot, stats::Aggregates::SaveTo). The export engine and the credit
// book read their own rows as before.
//
// It is a cache, never the record: the journal and SQLite are. It is written when the platform
// stops with everything committed (Platform::SaveSnapshot), stamped with the number of the last
// journal frame and the last receipt id. Platform::Open uses it only if the store's are the same
// (nothing was committed since: a crash after new commits, or another store, is a full start),
// the risk rules keep the same span, and the file's checksum and format hold; otherwise it reads
// every row as before and says why (Platform::start_note).
//
// The file: "KJSNAP\0\1", the body's length (8 bytes), the body, its CRC-32C (4 bytes). It is
// written beside and renamed over the old one after fdatasync, so a crash leaves the old or the
// new one, never half of one. Integers are in the machine's byte order: it is read back on the
// machine that wrote it (another order fails the magic).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace kuajing::app {

// The file under the data directory.
std::string SnapshotPath(const std::string& data_dir);

// Writes `body` durably and atomically to `path`.
Status WriteSnapshotFile(const std::string& path, std::string_view body);

// The body of the file at `path`; nullopt if there is none; an error if it is not a snapshot
// (truncated, damaged, another format).
StatusOr<std::optional<std::string>> ReadSnapshotFile(const std::string& path);

}  // namespace kuajing::app
