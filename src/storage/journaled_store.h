// The platform's store: a journal as the durable record, the SQL store as a projection of it.
//
// Why (bench/README.md, issue 7): a clearance writes about 45 rows into SQLite's B-trees, several
// on random keys, and the single writer did that work inside every group commit: a third of its
// instructions, and more as the store grew. Now a group commit is one append of a frame to the
// journal (storage/journal.h) and one fdatasync per flush; a projector thread writes the frames
// into SQLite afterwards, many groups per transaction, off the writer's path.
//
// The contract of storage::Store holds unchanged:
//  * CommitUnsynced appends the group's frame (message seqs and receipt ids numbered here, in
//    commit order); Sync fdatasyncs the journal. An acknowledged group is in the journal on disk.
//  * Reads see every committed group, once: what the projector has not yet written is read from
//    memory (the unprojected frames, indexed by message guid and by the guid a receipt answers).
//    A read copies what memory holds first, then reads SQLite; frames leave memory only after
//    their transaction committed, so what the copy lacks SQLite has, and what is in both is
//    counted once (by receipt id; for the quota ledger, by the frame number SQLite has applied,
//    read in the same snapshot). The projector's commit, which writes megabytes to SQLite's log,
//    holds no lock a reader or the writer waits for.
//  * Open replays the frames the SQL store lacks (a crash, a power loss: SQLite runs with
//    synchronous=NORMAL and the frame number it has applied is committed with the rows), so the
//    SQL store ends complete before anything else reads it. Journal segments are deleted once
//    SQLite's copy of all their frames is flushed.
//  * The projector is at most kMaxUnprojectedBytes behind: the writer waits beyond that.
//    If a projection fails (disk full, I/O error) every later commit fails with its status; the
//    journal keeps everything acknowledged and the next Open writes it.
//
// On disk: DIR/kuajing.db (the SQL store) and DIR/journal/ (the segments). One process at a time
// (a lock on DIR/journal/LOCK): Open fails with FailedPrecondition while another holds it.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "storage/store.h"

namespace kuajing::storage {

inline constexpr size_t kMaxUnprojectedBytes = size_t{64} << 20;

struct JournaledStoreOptions {
  // Called on the projector thread after a transaction committed and before its frames leave
  // memory, with the last frame's number: tests hold the projector there to read a group that is
  // in both places.
  std::function<void(uint64_t frame)> between_commit_and_forget;
  // The filter of stored message guids (guid_filter.h): a fixed size for tests (0: a byte a
  // guid for twice the messages stored, at least guid_filter_min_guids, made again when they
  // outgrow it, up to 64 MiB), and a call on the thread that fills it from SQLite once it is
  // complete and in use (with the guids read). MessagesStored trusts its "not there" from then
  // on; until then every guid is looked up in SQLite.
  size_t guid_filter_bytes = 0;
  uint64_t guid_filter_min_guids = uint64_t{1} << 19;  // the least a sized filter is made for
  std::function<void(uint64_t guids)> on_guid_filter_ready;
};

// Opens (creating if needed) the store in `dir`, recovering and projecting its journal first.
StatusOr<std::unique_ptr<Store>> OpenJournaledStore(const std::string& dir,
                                                    JournaledStoreOptions options = {});

// The journal frame's payload: the batches of one group commit, every field, in a compact binary
// form (varint lengths and numbers). Exposed for tests.
std::string EncodeFrame(const std::vector<const CommitBatch*>& batches);
// The same into `buffer`, which only grows (its memory is reused, and not cleared again): the
// payload is the view returned, valid until the buffer's next use.
std::string_view EncodeFrame(const std::vector<const CommitBatch*>& batches,
                             std::vector<char>& buffer);
StatusOr<std::vector<CommitBatch>> DecodeFrame(std::string_view payload);

}  // namespace kuajing::storage
