#include "storage/journaled_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>

#include "common/thread_name.h"
#include "common/varint.h"
#include "storage/blob_codec.h"
#include "storage/guid_filter.h"
#include "storage/journal.h"
#include "storage/pointer_table.h"
#include "storage/sqlite_store.h"

namespace kuajing::storage {

namespace {

// Version 2 added each message's raw_format after its raw bytes. Version 3 keeps a receipt as its
// XML or its packed record (ReceiptBody, store.h), so that a build which would take a record for
// XML refuses the frame. Frames of versions 1 (raw_format 0) and 2 still read: a journal written
// by an earlier build is replayed after an upgrade.
constexpr char kFrameVersion = 3;

// The projector's gathering (ProjectLoop): at most this long, or until this much is waiting.
constexpr auto kGatherDelay = std::chrono::milliseconds(50);
constexpr size_t kGatherBytes = size_t{4} << 20;

}  // namespace

std::string EncodeFrame(const std::vector<const CommitBatch*>& batches) {
  std::vector<char> buffer;
  return std::string(EncodeFrame(batches, buffer));
}

std::string_view EncodeFrame(const std::vector<const CommitBatch*>& batches,
                             std::vector<char>& buffer) {
  // The most the frame can take (a varint's most for each number and each text's length), made
  // once, then written through a pointer: a varint and an append per field, each checking the
  // string's room, were most of encoding a group's frame (bench/README.md, "Issue 7"). The
  // buffer never shrinks, so a group's frame does not zero its room again.
  constexpr size_t kV = kMaxVarintBytes;
  size_t room = 1 + kV;
  for (const CommitBatch* b : batches) {
    const MessageRow& m = b->message;
    // 10 numbers and lengths (the counts of receipts, changes and ledger rows among them) and the
    // accepted byte.
    room += 11 * kV + m.guid.size() + m.type.size() + m.sender.size() + m.raw.size();
    for (const StoredReceipt& r : b->receipts) {
      room +=
          6 * kV + r.type.size() + r.answers_guid.size() + r.status.size() + ReceiptBody(r).size();
      for (const std::string& who : r.audience) room += kV + who.size();
    }
    for (const auto& c : b->changes) room += 4 * kV + c.kind.size() + c.key.size() + c.value.size();
    for (const clearance::QuotaEntry& q : b->ledger)
      room += 6 * kV + q.buyer_id.size() + q.invt_no.size() + q.reason.size();
  }
  if (buffer.size() < room) buffer.resize(std::max(room, buffer.size() * 2));
  char* const begin = buffer.data();
  char* p = begin;
  *p++ = static_cast<char>(kFrameVersion);
  p = PutVarintAt(p, batches.size());
  for (const CommitBatch* b : batches) {
    const MessageRow& m = b->message;
    p = PutSignedAt(p, m.seq);
    p = PutTextAt(p, m.guid);
    p = PutTextAt(p, m.type);
    p = PutTextAt(p, m.sender);
    p = PutSignedAt(p, m.received_ms);
    *p++ = m.accepted ? 1 : 0;
    p = PutTextAt(p, m.raw);
    p = PutSignedAt(p, m.raw_format);
    p = PutVarintAt(p, b->receipts.size());
    for (const StoredReceipt& r : b->receipts) {
      p = PutSignedAt(p, r.id);
      p = PutTextAt(p, r.type);
      p = PutTextAt(p, r.answers_guid);
      p = PutTextAt(p, r.status);
      p = PutTextAt(p, ReceiptBody(r));
      p = PutVarintAt(p, r.audience.size());
      for (const std::string& who : r.audience) p = PutTextAt(p, who);
    }
    p = PutVarintAt(p, b->changes.size());
    for (const clearance::StateChange& c : b->changes) {
      p = PutTextAt(p, c.kind);
      p = PutTextAt(p, c.key);
      p = PutTextAt(p, c.value);
      *p++ = c.erase ? 1 : 0;
    }
    p = PutVarintAt(p, b->ledger.size());
    for (const clearance::QuotaEntry& q : b->ledger) {
      p = PutTextAt(p, q.buyer_id);
      p = PutSignedAt(p, q.year);
      p = PutSignedAt(p, q.delta.e5);
      p = PutTextAt(p, q.invt_no);
      p = PutTextAt(p, q.reason);
      p = PutSignedAt(p, q.at_ms);
    }
  }
  // A tripwire for the room's sum above: were it short, the writes went past it (tests catch it).
  if (static_cast<size_t>(p - begin) > room) std::abort();
  return {begin, static_cast<size_t>(p - begin)};
}

StatusOr<std::vector<CommitBatch>> DecodeFrame(std::string_view payload) {
  VarintReader in(payload);
  const uint8_t version = in.Byte();
  if (version < 1 || version > static_cast<uint8_t>(kFrameVersion)) {
    return Internal("a journal frame of an unknown version (this build reads versions 1 to 3)");
  }
  std::vector<CommitBatch> out(in.Count());
  for (CommitBatch& b : out) {
    MessageRow& m = b.message;
    m.seq = in.Signed();
    m.guid = in.Text();
    m.type = in.Text();
    m.sender = in.Text();
    m.received_ms = in.Signed();
    m.accepted = in.Byte() != 0;
    m.raw = in.Text();
    if (version >= 2) {
      m.raw_format = in.Signed();
      if (m.raw_format != static_cast<int64_t>(BlobFormat::kPlain) &&
          m.raw_format != static_cast<int64_t>(BlobFormat::kZstdV1) &&
          m.raw_format != static_cast<int64_t>(BlobFormat::kZstdV2)) {
        return Internal("a journal frame names a raw format this build does not know");
      }
    }
    b.receipts.resize(in.Count());
    for (StoredReceipt& r : b.receipts) {
      r.id = in.Signed();
      r.type = in.Text();
      r.answers_guid = in.Text();
      r.status = in.Text();
      SetReceiptBody(r, in.Text());
      r.audience.resize(in.Count());
      for (std::string& who : r.audience) who = in.Text();
    }
    b.changes.resize(in.Count());
    for (clearance::StateChange& c : b.changes) {
      c.kind = in.Text();
      c.key = in.Text();
      c.value = in.Text();
      c.erase = in.Byte() != 0;
    }
    b.ledger.resize(in.Count());
    for (clearance::QuotaEntry& q : b.ledger) {
      q.buyer_id = in.Text();
      q.year = static_cast<int>(in.Signed());
      q.delta = Decimal::FromE5(in.Signed());
      q.invt_no = in.Text();
      q.reason = in.Text();
      q.at_ms = in.Signed();
    }
    if (!in.ok()) break;
  }
  if (!in.ok() || !in.done()) return Internal("a journal frame that does not decode");
  return out;
}

namespace {

class JournaledStore final : public Store {
  struct Frame;  // below

 public:
  ~JournaledStore() override {
    scan_stop_ = true;
    if (guid_scan_.joinable()) guid_scan_.join();
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (projector_.joinable()) projector_.join();  // writes what is left first
    if (lock_fd_ >= 0) ::close(lock_fd_);
  }

  static StatusOr<std::unique_ptr<Store>> Open(const std::string& dir,
                                               JournaledStoreOptions options) {
    auto s = std::unique_ptr<JournaledStore>(new JournaledStore);
    s->options_ = std::move(options);
    // The lock first: a second process must not touch the store at all.
    const std::string journal_dir = dir + "/journal";
    KJ_RETURN_IF_ERROR(s->Lock(journal_dir));
    auto sql = OpenSqlStore(dir, SqlConnection::kWriter);
    if (!sql.ok()) return sql.status();
    s->sql_ = std::move(*sql);
    auto applied = s->sql_->JournalApplied();
    if (!applied.ok()) return applied.status();

    // Recovery: the frames SQLite lacks are written to it, a few thousand messages per
    // transaction, before anyone reads.
    std::vector<CommitBatch> pending;
    uint64_t pending_frame = 0;
    auto flush = [&]() -> Status {
      if (pending.empty()) return Status::Ok();
      std::vector<const CommitBatch*> ptrs;
      for (const CommitBatch& b : pending) ptrs.push_back(&b);
      KJ_RETURN_IF_ERROR(s->sql_->CommitApplied(ptrs, pending_frame));
      pending.clear();
      return Status::Ok();
    };
    auto journal = Journal::Open(journal_dir, *applied,
                                 [&](uint64_t number, std::string_view payload) -> Status {
                                   auto batches = DecodeFrame(payload);
                                   if (!batches.ok()) {
                                     return Internal("journal frame " + std::to_string(number) +
                                                     ": " + batches.status().message());
                                   }
                                   for (CommitBatch& b : *batches) pending.push_back(std::move(b));
                                   pending_frame = number;
                                   return pending.size() >= 4096 ? flush() : Status::Ok();
                                 });
    if (!journal.ok()) return journal.status();
    KJ_RETURN_IF_ERROR(flush());
    s->journal_ = std::move(*journal);
    if (s->journal_->last_number() < *applied) {
      return Internal("the journal in " + journal_dir + " ends at frame " +
                      std::to_string(s->journal_->last_number()) + " but " + dir +
                      "/kuajing.db holds frames to " + std::to_string(*applied) +
                      ": the journal folder was replaced; restore it from a backup");
    }
    KJ_RETURN_IF_ERROR(s->sql_->Sync());
    KJ_RETURN_IF_ERROR(s->journal_->Retire(s->journal_->last_number()));

    auto seq = s->sql_->LastMessageSeq();
    if (!seq.ok()) return seq.status();
    auto id = s->sql_->LastReceiptId();
    if (!id.ok()) return id.status();
    auto count = s->sql_->MessageCount();
    if (!count.ok()) return count.status();
    s->last_seq_ = *seq;
    s->last_receipt_id_ = *id;
    s->message_count_ = *count;
    auto reader = OpenSqlStore(dir, SqlConnection::kReader);
    if (!reader.ok()) return reader.status();
    s->reader_ = std::move(*reader);
    s->dir_ = dir;
    s->projector_ = std::thread([raw = s.get()] { raw->ProjectLoop(); });
    {
      std::lock_guard<std::mutex> lock(s->guids_mu_);
      s->guids_count_ = static_cast<uint64_t>(*count);
      s->StartGuidScan();
    }
    return std::unique_ptr<Store>(std::move(s));
  }

  Status CommitUnsynced(const std::vector<const CommitBatch*>& batches) override {
    return Append(batches, [](const CommitBatch* b) { return *b; });
  }
  Status CommitUnsyncedTaking(const std::vector<CommitBatch*>& batches) override {
    return Append(batches, [](CommitBatch* b) {
      // The receipts are copied: the caller answers with them.
      return CommitBatch{std::move(b->message), b->receipts, std::move(b->changes),
                         std::move(b->ledger)};
    });
  }
  Status CommitUnsyncedSharing(const std::vector<CommitBatch*>& batches,
                               std::vector<SharedReceipts>* kept) override {
    std::shared_ptr<const Frame> frame;
    KJ_RETURN_IF_ERROR(Append(
        batches, [](CommitBatch* b) { return std::move(*b); }, &frame));
    // Each batch's receipts, owned by the frame: it outlives its time in memory as long as an
    // answer holds them.
    kept->clear();
    for (const CommitBatch& b : frame->batches) kept->emplace_back(frame, &b.receipts);
    return Status::Ok();
  }

  // Numbers the batches, appends them to the journal as one frame (not flushed) and keeps them
  // in memory for the readers and the projector; `keep` makes the frame's copy of a batch.
  // `appended`, if given, gets the frame (never changed once appended).
  template <typename BatchPtr, typename Keep>
  Status Append(const std::vector<BatchPtr>& batches, const Keep& keep,
                std::shared_ptr<const Frame>* appended = nullptr) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      const auto room = [this] {
        return unprojected_bytes_ < kMaxUnprojectedBytes || !projection_.ok();
      };
      if (!room()) {
        const auto began = std::chrono::steady_clock::now();
        room_cv_.wait(lock, room);
        room_waits_.Observe(std::chrono::steady_clock::now() - began);
      }
      if (!projection_.ok()) return projection_;
    }
    auto frame = std::make_shared<Frame>();
    frame->batches.reserve(batches.size());
    for (BatchPtr b : batches) {
      frame->batches.push_back(keep(b));
      CommitBatch& c = frame->batches.back();
      c.message.seq = ++last_seq_;
      for (StoredReceipt& r : c.receipts) r.id = ++last_receipt_id_;
    }
    std::vector<const CommitBatch*> ptrs;
    for (const CommitBatch& b : frame->batches) ptrs.push_back(&b);
    // One buffer for every frame: a group's frame is megabytes, and a fresh allocation of that
    // size is a fresh mapping whose pages all fault in again.
    const std::string_view payload = EncodeFrame(ptrs, payload_);
    auto number = journal_->Append(payload);
    if (!number.ok()) return number.status();
    frame->number = *number;
    frame->bytes = payload.size();
    HashKeys(*frame);  // outside mu_
    bool wake = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      size_t receipt = 0, change = 0;
      for (size_t i = 0; i < frame->batches.size(); ++i) {
        const CommitBatch& b = frame->batches[i];
        if (b.message.accepted && !b.message.guid.empty()) {
          const uint64_t h = frame->guid_hashes[i];
          const std::string& guid = b.message.guid;
          // The first accepted one, as in SQL.
          if (!by_guid_.Find(h, [&](const CommitBatch& o) { return o.message.guid == guid; }))
            by_guid_.Insert(h, &b);
        }
        for (const StoredReceipt& r : b.receipts)
          by_answers_.Insert(frame->answer_hashes[receipt++], &r);
        for (const clearance::StateChange& c : b.changes) {
          by_state_.Upsert(frame->state_hashes[change++], &c, [&](const clearance::StateChange& o) {
            return o.key == c.key && o.kind == c.kind;
          });
        }
      }
      wake = unprojected_.empty() || (unprojected_bytes_ < kGatherBytes &&
                                      unprojected_bytes_ + frame->bytes >= kGatherBytes);
      unprojected_.push_back(frame);
      unprojected_bytes_ += frame->bytes;
      message_count_ += static_cast<int64_t>(batches.size());
    }
    // The projector waits for the first frame, and (gathering) for enough of them.
    if (wake) cv_.notify_all();
    if (appended != nullptr) *appended = std::move(frame);
    return Status::Ok();
  }

  Status Sync() override { return journal_->Sync(); }

  // Reads, without holding mu_ while SQLite reads (the projector commits meanwhile): first what
  // memory holds, copied under mu_, then SQLite. A frame is dropped from memory only after its
  // transaction committed, so whatever the copy lacks SQLite has; what is in both is counted once
  // (by receipt id, or by the frame number SQLite has applied).
  StatusOr<std::optional<std::vector<StoredReceipt>>> ReceiptsOfMessage(
      std::string_view guid) override {
    const uint64_t hash = HashOfGuid(guid);
    std::optional<std::vector<StoredReceipt>> unprojected;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (const CommitBatch* b = FindMessage(guid, hash)) unprojected = b->receipts;
    }
    if (!unprojected && NeverStored(hash)) return unprojected;
    std::lock_guard<std::mutex> lock(reader_mu_);
    auto stored = reader_->ReceiptsOfMessage(guid);  // an older message of the guid comes first
    if (!stored.ok() || stored->has_value()) return stored;
    if (unprojected) {
      for (StoredReceipt& r : *unprojected) KJ_RETURN_IF_ERROR(RenderReceipt(r));
    }
    return unprojected;
  }

  // Memory first for all, then SQLite for the rest in one transaction: as ReceiptsOfMessage, what
  // memory lacks after its look SQLite has by the time its transaction begins. Once the filter
  // of stored guids is complete, a guid it has never seen is not looked up at all.
  StatusOr<std::vector<char>> MessagesStored(const std::vector<std::string_view>& guids) override {
    std::vector<char> out(guids.size(), 0);
    std::vector<std::string_view> rest;
    std::vector<size_t> rest_at;
    std::vector<uint64_t> hashes(guids.size());
    for (size_t i = 0; i < guids.size(); ++i) hashes[i] = HashOfGuid(guids[i]);
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (size_t i = 0; i < guids.size(); ++i)
        out[i] = FindMessage(guids[i], hashes[i]) != nullptr ? 1 : 0;
    }
    {
      std::lock_guard<std::mutex> lock(guids_mu_);
      for (size_t i = 0; i < guids.size(); ++i) {
        if (out[i] || (guids_ && !guids_->MayContain(hashes[i]))) continue;
        rest.push_back(guids[i]);
        rest_at.push_back(i);
      }
    }
    if (rest.empty()) return out;
    StatusOr<std::vector<char>> stored = std::vector<char>();
    {
      std::lock_guard<std::mutex> lock(reader_mu_);
      stored = reader_->MessagesStored(rest);
    }
    if (!stored.ok()) return stored.status();
    for (size_t r = 0; r < rest.size(); ++r) out[rest_at[r]] = (*stored)[r];
    return out;
  }

  StatusOr<std::optional<std::string>> SenderOfMessage(std::string_view guid) override {
    const uint64_t hash = HashOfGuid(guid);
    std::optional<std::string> unprojected;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (const CommitBatch* b = FindMessage(guid, hash)) unprojected = b->message.sender;
    }
    if (!unprojected && NeverStored(hash)) return unprojected;
    std::lock_guard<std::mutex> lock(reader_mu_);
    auto stored = reader_->SenderOfMessage(guid);
    if (!stored.ok() || stored->has_value()) return stored;
    return unprojected;
  }

  StatusOr<std::vector<StoredReceipt>> ReceiptsAnswering(std::string_view guid) override {
    std::vector<StoredReceipt> unprojected;
    {
      std::lock_guard<std::mutex> lock(mu_);
      std::vector<const StoredReceipt*> found;
      by_answers_.ForEach(HashOfGuid(guid), [&](const StoredReceipt* r) {
        if (r->answers_guid == guid) found.push_back(r);
      });
      // In the order committed (the table keeps none).
      std::sort(found.begin(), found.end(),
                [](const StoredReceipt* a, const StoredReceipt* b) { return a->id < b->id; });
      for (const StoredReceipt* r : found) unprojected.push_back(*r);
    }
    std::lock_guard<std::mutex> lock(reader_mu_);
    auto out = reader_->ReceiptsAnswering(guid);
    if (!out.ok()) return out;
    const int64_t stored_last = out->empty() ? 0 : out->back().id;
    for (StoredReceipt& r : unprojected) {
      if (r.id <= stored_last) continue;
      KJ_RETURN_IF_ERROR(RenderReceipt(r));
      out->push_back(std::move(r));
    }
    return out;
  }

  Status LoadState(const std::function<Status(const clearance::StateChange&)>& sink,
                   const StateWanted& wanted) override {
    KJ_RETURN_IF_ERROR(Drain());
    std::lock_guard<std::mutex> lock(reader_mu_);
    return reader_->LoadState(sink, wanted);
  }

  Status LoadStateOfKinds(
      std::string_view prefix,
      const std::function<Status(const clearance::StateChange&)>& sink) override {
    KJ_RETURN_IF_ERROR(Drain());
    std::lock_guard<std::mutex> lock(reader_mu_);
    return reader_->LoadStateOfKinds(prefix, sink);
  }

  std::optional<uint64_t> LastFrame() override { return journal_->last_number(); }

  StatusOr<std::optional<std::string>> ReadState(std::string_view kind,
                                                 std::string_view key) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      const clearance::StateChange* c = by_state_.Find(
          HashOfRow(kind, key),
          [&](const clearance::StateChange& o) { return o.key == key && o.kind == kind; });
      if (c != nullptr) {
        return c->erase ? std::optional<std::string>() : std::optional<std::string>(c->value);
      }
    }
    // Not in memory: SQLite has the last change (frames leave memory after their commit).
    std::lock_guard<std::mutex> lock(reader_mu_);
    return reader_->ReadState(kind, key);
  }

  StatusOr<Decimal> LedgerSum(std::string_view buyer_id, int year) override {
    std::vector<std::pair<uint64_t, int64_t>> unprojected;  // frame, delta
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const auto& frame : unprojected_) {
        for (const CommitBatch& b : frame->batches) {
          for (const clearance::QuotaEntry& q : b.ledger) {
            if (q.buyer_id == buyer_id && q.year == year)
              unprojected.emplace_back(frame->number, q.delta.e5);
          }
        }
      }
    }
    std::lock_guard<std::mutex> lock(reader_mu_);
    auto stored = reader_->LedgerSumAndApplied(buyer_id, year);
    if (!stored.ok()) return stored.status();
    int64_t e5 = stored->first.e5;
    for (const auto& [frame, delta] : unprojected) {
      if (frame > stored->second) e5 += delta;
    }
    return Decimal::FromE5(e5);
  }

  Timings timings() const override {
    Timings t = sql_->timings();
    t.journal_sync = &journal_->sync_times();
    t.journal_rollover = &journal_->rollover_times();
    t.room_wait = &room_waits_;
    t.projection = &projections_;
    return t;
  }

  Backlog Unprojected() override {
    std::lock_guard<std::mutex> lock(mu_);
    return Backlog{static_cast<int64_t>(unprojected_.size()),
                   static_cast<int64_t>(unprojected_bytes_)};
  }

  StatusOr<int64_t> MessageCount() override {
    std::lock_guard<std::mutex> lock(mu_);
    return message_count_;
  }

  StatusOr<std::vector<StoredReceipt>> ReceiptsFor(std::string_view enterprise, int64_t after_id,
                                                   int limit) override {
    std::vector<StoredReceipt> unprojected;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const auto& frame : unprojected_) {
        for (const CommitBatch& b : frame->batches) {
          for (const StoredReceipt& r : b.receipts) {
            if (static_cast<int>(unprojected.size()) >= limit) break;
            if (r.id > after_id &&
                std::find(r.audience.begin(), r.audience.end(), enterprise) != r.audience.end())
              unprojected.push_back(r);
          }
        }
      }
    }
    std::lock_guard<std::mutex> lock(reader_mu_);
    auto page = reader_->ReceiptsFor(enterprise, after_id, limit);
    if (!page.ok()) return page;
    // Every receipt still in memory comes after every one SQLite had before it (commit order);
    // those SQLite has too are the ones up to the page's last id.
    const int64_t stored_last = page->empty() ? after_id : page->back().id;
    for (StoredReceipt& r : unprojected) {
      if (static_cast<int>(page->size()) >= limit) break;
      if (r.id <= stored_last) continue;
      KJ_RETURN_IF_ERROR(RenderReceipt(r));
      page->push_back(std::move(r));
    }
    return page;
  }

  StatusOr<int64_t> LastReceiptId() override { return last_receipt_id_.load(); }

  Status ForEachMessage(
      int64_t to_ms,
      const std::function<Status(const MessageRow&, const std::vector<StoredReceipt>&)>& sink)
      override {
    KJ_RETURN_IF_ERROR(Drain());
    std::lock_guard<std::mutex> lock(reader_mu_);
    return reader_->ForEachMessage(to_ms, sink);
  }

  Status RecordRiskRules(const RiskRulesVersion& v) override {
    // Not part of any frame: written on the projector's connection between its transactions, and
    // flushed before the decision that uses the rules can be acknowledged.
    std::lock_guard<std::mutex> lock(sql_mu_);
    KJ_RETURN_IF_ERROR(sql_->RecordRiskRules(v));
    return sql_->Sync();
  }

  StatusOr<std::vector<RiskRulesVersion>> RiskRulesHistory() override {
    std::lock_guard<std::mutex> lock(sql_mu_);
    return sql_->RiskRulesHistory();
  }

 private:
  struct Frame {
    uint64_t number = 0;
    size_t bytes = 0;
    std::vector<CommitBatch> batches;
    // The hashes of its keys in the tables below, in the order of the batches, their receipts
    // and their changes: made once by the writer (HashKeys), so that the projector, dropping the
    // frame, does not read its keys again.
    std::vector<uint64_t> guid_hashes, answer_hashes, state_hashes;
  };

  JournaledStore() = default;

  void HashKeys(Frame& f) {
    for (const CommitBatch& b : f.batches) {
      f.guid_hashes.push_back(HashOfGuid(b.message.guid));
      for (const StoredReceipt& r : b.receipts)
        f.answer_hashes.push_back(HashOfGuid(r.answers_guid));
      for (const clearance::StateChange& c : b.changes)
        f.state_hashes.push_back(HashOfRow(c.kind, c.key));
    }
    // Before any reader can miss the messages in memory: they are not there yet. A new filter is
    // made first: this frame is not in memory for StartGuidScan to add.
    std::lock_guard<std::mutex> lock(guids_mu_);
    guids_count_ += f.batches.size();
    if (!next_guids_ && guids_count_ > guids_capacity_) StartGuidScan();
    for (const uint64_t h : f.guid_hashes) {
      if (guids_) guids_->Add(h);
      if (next_guids_) next_guids_->Add(h);
    }
  }

  // Whether the filter of stored guids is complete and has never seen the guid of `hash`: then no
  // message of it is stored, in memory or in SQLite, and SQLite need not be asked (the
  // per-message reads of `kuajing ingest`, replay and the writer's look after a commit within its
  // group). Any other answer, "maybe" or "not complete yet", is decided by SQLite.
  bool NeverStored(uint64_t hash) {
    std::lock_guard<std::mutex> lock(guids_mu_);
    return guids_ != nullptr && !guids_->MayContain(hash);
  }

  // The first accepted unprojected message of `guid`, or null. Under mu_.
  const CommitBatch* FindMessage(std::string_view guid) const {
    return FindMessage(guid, HashOfGuid(guid));
  }
  const CommitBatch* FindMessage(std::string_view guid, uint64_t hash) const {
    return by_guid_.Find(hash, [&](const CommitBatch& b) { return b.message.guid == guid; });
  }

  Status Lock(const std::string& journal_dir) {
    std::error_code ec;
    std::filesystem::create_directories(journal_dir, ec);
    if (ec) return Unavailable("cannot create " + journal_dir + ": " + ec.message());
    const std::string path = journal_dir + "/LOCK";
    lock_fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock_fd_ < 0) return Unavailable("cannot open " + path + ": " + std::strerror(errno));
    if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
      return FailedPrecondition("the store in " + journal_dir.substr(0, journal_dir.size() - 8) +
                                " is in use by another kuajing process (the lock " + path +
                                " is held); stop it first");
    }
    return Status::Ok();
  }

  // Waits until every committed frame is in SQLite (the projector stops gathering for it).
  Status Drain() {
    std::unique_lock<std::mutex> lock(mu_);
    ++draining_;
    cv_.notify_all();
    room_cv_.wait(lock, [this] { return unprojected_.empty() || !projection_.ok(); });
    --draining_;
    return projection_;
  }

  // The projector: takes the unprojected frames, up to kMaxTransactionBytes at a time, and writes
  // them to SQLite in one transaction; when it becomes visible they leave memory.
  //
  // It gathers first: from the first frame it waits up to kGatherDelay for kGatherBytes of them
  // (unless the store stops or someone drains). Under light load a group commit is a message or
  // two, and a transaction per group wrote each B-tree page it touched to SQLite's log again:
  // 128 KB of log per clearance at 250 clearances/s against 11 KB under full load, and three to
  // four times the CPU per clearance (bench/README.md). Nothing waits for the projection: the
  // frames are in the journal, flushed, and readers find them in memory meanwhile.
  void ProjectLoop() {
    NameThisThread("kj-projector");
    constexpr size_t kMaxTransactionBytes = size_t{16} << 20;
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      cv_.wait(lock, [this] { return stopping_ || !unprojected_.empty(); });
      cv_.wait_for(lock, kGatherDelay, [this] {
        return stopping_ || draining_ > 0 || unprojected_bytes_ >= kGatherBytes ||
               !projection_.ok();
      });
      if (unprojected_.empty() || !projection_.ok()) {
        if (stopping_ || !projection_.ok()) return;
        continue;
      }
      std::vector<const CommitBatch*> batches;
      size_t frames = 0, bytes = 0;
      while (frames < unprojected_.size() && bytes < kMaxTransactionBytes) {
        for (const CommitBatch& b : unprojected_[frames]->batches) batches.push_back(&b);
        bytes += unprojected_[frames]->bytes;
        ++frames;
      }
      const uint64_t last = unprojected_[frames - 1]->number;
      lock.unlock();
      Status st;
      {
        std::lock_guard<std::mutex> sql(sql_mu_);
        const auto began = std::chrono::steady_clock::now();
        st = sql_->CommitApplied(batches, last);
        projections_.Observe(std::chrono::steady_clock::now() - began);
      }
      if (st.ok() && options_.between_commit_and_forget) options_.between_commit_and_forget(last);
      std::vector<std::shared_ptr<Frame>> forgotten;
      lock.lock();
      if (st.ok()) forgotten = Forget(frames);  // readers find them in SQLite now
      lock.unlock();
      room_cv_.notify_all();
      // Their memory is freed without holding mu_, which the writer's next append waits for:
      // freeing a transaction's frames took 2.1 ms on average and up to 14 ms at 13,800
      // clearances/s (bench/README.md).
      forgotten.clear();
      // Segments all of whose frames are in SQLite go, once SQLite's copy is flushed.
      if (st.ok() && journal_->Segments().size() > 1) {
        std::lock_guard<std::mutex> sql(sql_mu_);
        st = sql_->Sync();
        if (st.ok()) st = journal_->Retire(last);
      }
      lock.lock();
      if (!st.ok()) {
        projection_ = Unavailable("writing the journal into the SQL store failed (" + st.message() +
                                  "); everything acknowledged is in the journal and is written "
                                  "at the next start");
      }
      room_cv_.notify_all();
    }
  }

  // Makes a filter for twice the messages stored and starts filling it from SQLite
  // (ScanGuids); appends add to it meanwhile. guids_mu_ held (then mu_: never the other way);
  // on the opening or the writer thread.
  //
  // It holds every message once the scan ends: those appended from now on (HashKeys), those in
  // memory now (added here), and the rest, whose SQLite transactions committed before they left
  // memory, so before the scan begins. (Without the second, a message appended before the new
  // filter and projected after the scan passed its guid was in neither: a test found it.)
  void StartGuidScan() {
    uint64_t capacity = UINT64_MAX;  // a fixed size: never made again
    size_t bytes = options_.guid_filter_bytes;
    if (bytes == 0) {
      // A byte a guid at twice the messages stored: 8 to 16 bits a guid until they double again
      // (about 3 % to under 1 % "maybe" for a guid never stored), up to 64 MiB, which then
      // stays (80 M messages, a year of 20 M clearances sent one document a message, at 6-7
      // bits a guid: "maybe" one time in 10 or so, the rest still spared their lookup).
      constexpr uint64_t kMaxBytes = uint64_t{64} << 20;
      const uint64_t want =
          std::bit_ceil(std::max<uint64_t>(2 * guids_count_, options_.guid_filter_min_guids));
      bytes = static_cast<size_t>(std::min(want, kMaxBytes));
      if (want < kMaxBytes) capacity = want;
    }
    next_guids_ = std::make_unique<GuidFilter>(bytes);
    next_capacity_ = capacity;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const auto& frame : unprojected_) {
        for (const uint64_t h : frame->guid_hashes) next_guids_->Add(h);
      }
    }
    if (guid_scan_.joinable()) guid_scan_.join();  // the last scan, ended
    guid_scan_ = std::thread([this, target = next_guids_.get()] { ScanGuids(target); });
  }

  // Fills `target` from SQLite, on a connection of its own, a chunk per read transaction (none
  // held long: checkpoints go on), then puts it in use (StartGuidScan says why it is complete).
  // On a failure the filter in use stays (none at first: every lookup goes to SQLite), and no
  // other scan is started.
  void ScanGuids(GuidFilter* target) {
    NameThisThread("kj-guid-scan");
    uint64_t total = 0;
    bool done = false;
    if (auto conn = OpenSqlStore(dir_, SqlConnection::kReader); conn.ok()) {
      std::string after;
      constexpr size_t kChunk = 20'000;
      while (!scan_stop_) {
        auto n = (*conn)->MessageGuidsAfter(after, kChunk, [&](std::string_view guid) {
          target->Add(guid);
          after.assign(guid);
        });
        if (!n.ok()) break;
        total += *n;
        if (*n < kChunk) {
          done = true;
          break;
        }
      }
    }
    {
      std::lock_guard<std::mutex> lock(guids_mu_);
      if (done) {
        guids_ = std::move(next_guids_);
        guids_capacity_ = next_capacity_;
      } else {
        next_guids_.reset();
        guids_capacity_ = UINT64_MAX;
      }
    }
    if (done && options_.on_guid_filter_ready) options_.on_guid_filter_ready(total);
  }

  // Drops the first `frames` unprojected frames from memory (mu_ held; their transaction has
  // committed) and returns them, for the caller to free after unlocking.
  std::vector<std::shared_ptr<Frame>> Forget(size_t frames) {
    std::vector<std::shared_ptr<Frame>> out;
    out.reserve(frames);
    for (size_t f = 0; f < frames; ++f) {
      const Frame& frame = *unprojected_.front();
      size_t receipt = 0, change = 0;
      for (size_t i = 0; i < frame.batches.size(); ++i) {
        const CommitBatch& b = frame.batches[i];
        by_guid_.Erase(frame.guid_hashes[i], &b);  // if it is there (the first of its guid)
        for (const StoredReceipt& r : b.receipts)
          by_answers_.Erase(frame.answer_hashes[receipt++], &r);
        // Unless a later change of the row took its place.
        for (const clearance::StateChange& c : b.changes)
          by_state_.Erase(frame.state_hashes[change++], &c);
      }
      unprojected_bytes_ -= frame.bytes;
      out.push_back(std::move(unprojected_.front()));
      unprojected_.pop_front();
    }
    return out;
  }

  JournaledStoreOptions options_;
  std::unique_ptr<SqlStore> sql_;     // the projector's connection (and recovery's)
  std::unique_ptr<SqlStore> reader_;  // reads, under reader_mu_
  std::mutex reader_mu_;
  std::unique_ptr<Journal> journal_;
  int lock_fd_ = -1;
  std::mutex sql_mu_;  // sql_ is used by the projector and by the risk rules history

  // The writer's (CommitUnsynced runs on one thread).
  std::vector<char> payload_;
  int64_t last_seq_ = 0;
  std::atomic<int64_t> last_receipt_id_{0};

  std::mutex mu_;
  std::condition_variable cv_;       // frames to project, or stopping
  std::condition_variable room_cv_;  // frames projected
  std::deque<std::shared_ptr<Frame>> unprojected_;
  size_t unprojected_bytes_ = 0;
  int draining_ = 0;  // threads in Drain(): the projector does not gather
  // What memory holds, for the readers (pointer_table.h): the first accepted message of each
  // guid, the receipts by the guid they answer, the newest change of each state row.
  PointerTable<CommitBatch> by_guid_;
  PointerTable<StoredReceipt> by_answers_;
  PointerTable<clearance::StateChange> by_state_;
  int64_t message_count_ = 0;
  DurationHistogram room_waits_;   // commits that waited for the projector (kMaxUnprojectedBytes)
  DurationHistogram projections_;  // the projector's transactions
  // The guids of every message stored (guid_filter.h), null until the first scan completes, and
  // the next one being filled by guid_scan_; guids_count_ the messages stored (those at the start
  // and every one appended since). The pointers and counts under guids_mu_; the bits are atomic.
  std::string dir_;
  std::mutex guids_mu_;
  std::unique_ptr<GuidFilter> guids_;
  std::unique_ptr<GuidFilter> next_guids_;
  uint64_t guids_count_ = 0;
  uint64_t guids_capacity_ = 0;
  uint64_t next_capacity_ = 0;
  std::atomic<bool> scan_stop_{false};
  std::thread guid_scan_;  // started and joined under guids_mu_, and by the destructor
  Status projection_ = Status::Ok();
  bool stopping_ = false;
  std::thread projector_;
};

}  // namespace

StatusOr<std::unique_ptr<Store>> OpenJournaledStore(const std::string& dir,
                                                    JournaledStoreOptions options) {
  return JournaledStore::Open(dir, std::move(options));
}

}  // namespace kuajing::storage
