#include "app/platform.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <utility>

#include "app/snapshot.h"
#include "clearance/credit_events.h"
#include "clearance/receipts.h"
#include "common/civil_time.h"
#include "common/codes.h"
#include "common/hash.h"
#include "common/varint.h"
#include "storage/journaled_store.h"

namespace kuajing::app {

using namespace kuajing::model;

namespace {

// The state rows' owners by the start of their kind; every other kind is the import engine's.
constexpr std::string_view kCreditKinds = "credit";  // credit::Book
constexpr std::string_view kStatsKinds = "stats_";   // stats::Aggregates (the refusals)
constexpr std::string_view kExportKinds = "x_";      // clearance::ExportEngine

}  // namespace

storage::StoredReceipt EncodeReceipt(const clearance::Emitted& e) {
  storage::StoredReceipt r{MessageTypeName(e.type), e.answers_guid, e.status};
  r.packed = e.receipt;
  auto xml = storage::ReceiptXml(r);
  // The engines packed it themselves: a receipt that does not read back is a bug of ours.
  if (!xml.ok()) std::abort();
  r.xml = std::move(*xml);
  r.packed.clear();
  return r;
}

StatusOr<std::unique_ptr<Platform>> Platform::Open(const PlatformOptions& options) {
  auto p = std::unique_ptr<Platform>(new Platform);
  p->options_ = options;
  auto ref = reference::ReferenceData::LoadDir(options.reference_dir);
  if (!ref.ok()) return ref.status();
  p->reference_ = std::make_unique<reference::ReferenceData>(std::move(*ref));
  auto store = storage::OpenJournaledStore(options.data_dir);
  if (!store.ok()) return store.status();
  p->store_ = std::move(*store);
  auto history = p->store_->RiskRulesHistory();
  if (!history.ok()) return history.status();
  if (!history->empty()) p->recorded_risk_version_ = history->back().version;
  p->MakeEngines();
  const Status snapshot = p->StartFromSnapshot();
  if (snapshot.ok()) return p;
  p->start_note_ = "read every stored row (" + snapshot.message() + ")";
  p->MakeEngines();  // what the snapshot may have loaded goes
  // Rows go to their owner by kind; the import engine says which of its rows it reads (the others
  // are all read).
  auto import_row = [](std::string_view kind) {
    return !kind.starts_with(kCreditKinds) && !kind.starts_with(kStatsKinds) &&
           !kind.starts_with(kExportKinds);
  };
  KJ_RETURN_IF_ERROR(p->store_->LoadState(
      [&](const clearance::StateChange& row) {
        if (import_row(row.kind)) return p->engine_->Restore(row);
        if (row.kind.starts_with(kCreditKinds))
          return p->credit_->Restore(credit::Row{row.kind, row.key, row.value, false});
        if (row.kind.starts_with(kStatsKinds))
          return p->stats_->Restore(stats::StateRow{row.kind, row.key, row.value, false});
        return p->export_engine_->Restore(row);
      },
      [&](std::string_view kind, std::string_view key) {
        return !import_row(kind) || p->engine_->RestoreWants(kind, key);
      }));
  return p;
}

void Platform::MakeEngines() {
  credit_ = std::make_unique<credit::Book>(options_.credit);
  engine_ = std::make_unique<clearance::Engine>(reference_.get(), options_.rules, credit_.get());
  export_engine_ =
      std::make_unique<clearance::ExportEngine>(reference_.get(), options_.rules, credit_.get());
  stats_ = std::make_unique<stats::Aggregates>();
  engine_->SetStats(stats_.get());
  export_engine_->SetStats(stats_.get());
  // Settled clearances live in the store, not in memory (issue 7, goal 4); the engine reads them
  // back when a document names one.
  engine_->SetStateReader([store = store_.get()](std::string_view kind, std::string_view key) {
    return store->ReadState(kind, key);
  });
}

// app/snapshot.h: the file's body is the journal frame and the last receipt id it was made at,
// the import engine's part, then the statistics.
Status Platform::StartFromSnapshot() {
  const auto frame = store_->LastFrame();
  if (!frame) return FailedPrecondition("the store keeps no journal");
  auto receipt = store_->LastReceiptId();
  if (!receipt.ok()) return receipt.status();
  auto file = SnapshotFile::Open(SnapshotPath(options_.data_dir));
  if (!file.ok()) return file.status();
  if (!*file) return NotFound("no snapshot: the last stop did not write one");
  VarintReader in((*file)->body());
  const uint64_t snap_frame = in.Varint();
  const int64_t snap_receipt = in.Signed();
  if (!in.ok() || snap_frame != *frame || snap_receipt != *receipt) {
    return FailedPrecondition(
        "the snapshot is of journal frame " + std::to_string(snap_frame) + " and receipt " +
        std::to_string(snap_receipt) + ", the store is at frame " + std::to_string(*frame) +
        " and receipt " + std::to_string(*receipt) + ": something was committed after it");
  }
  clearance::Engine::RowKeys resident;
  KJ_RETURN_IF_ERROR(engine_->LoadSnapshot(in, &resident));
  stats_->LoadFrom(in);
  if (!in.ok() || !in.done()) return Internal("the snapshot's statistics are damaged");
  // The rows the import engine held in memory, by key: the settled clearances' rows are not read.
  for (auto& [kind, key] : resident) {
    auto value = store_->ReadState(kind, key);
    if (!value.ok()) return value.status();
    if (!*value) return Internal("the snapshot names a " + kind + " row the store lacks: " + key);
    KJ_RETURN_IF_ERROR(engine_->Restore(
        clearance::StateChange{std::move(kind), std::move(key), std::move(**value), false}));
  }
  // The credit book's and the export engine's rows, all of them; the statistics of the export
  // lists are in the snapshot already.
  KJ_RETURN_IF_ERROR(store_->LoadStateOfKinds(kCreditKinds, [&](const clearance::StateChange& row) {
    return credit_->Restore(credit::Row{row.kind, row.key, row.value, false});
  }));
  export_engine_->SetStats(nullptr);
  KJ_RETURN_IF_ERROR(store_->LoadStateOfKinds(kExportKinds, [&](const clearance::StateChange& row) {
    return export_engine_->Restore(row);
  }));
  export_engine_->SetStats(stats_.get());
  snapshot_frame_ = *frame;
  start_note_ = "started from the snapshot of journal frame " + std::to_string(*frame) + " (" +
                std::to_string(resident.size()) + " rows held in memory read)";
  return Status::Ok();
}

Status Platform::SaveSnapshot() {
  if (broken_) return FailedPrecondition("the store failed earlier: no snapshot");
  if (!pending_guids_.empty()) return FailedPrecondition("messages are prepared, not committed");
  const auto frame = store_->LastFrame();
  if (!frame) return FailedPrecondition("the store keeps no journal");
  const std::string path = SnapshotPath(options_.data_dir);
  // The one on disk is of this state already (unless someone removed it meanwhile).
  if (snapshot_frame_ == *frame && std::filesystem::exists(path)) return Status::Ok();
  // The frames it is stamped with are on disk before it is.
  KJ_RETURN_IF_ERROR(store_->Sync());
  auto receipt = store_->LastReceiptId();
  if (!receipt.ok()) return receipt.status();
  auto writer = SnapshotWriter::Create(path);
  if (!writer.ok()) return writer.status();
  Status written = Status::Ok();
  auto flush = [&](std::string& piece) {
    if (written.ok()) written = writer->Append(piece);
    piece.clear();
  };
  std::string piece;
  PutVarint(piece, *frame);
  PutSigned(piece, *receipt);
  engine_->SaveSnapshot(piece, flush);
  stats_->SaveTo(piece);
  flush(piece);
  KJ_RETURN_IF_ERROR(written);
  KJ_RETURN_IF_ERROR(writer->Finish());
  snapshot_frame_ = *frame;
  return Status::Ok();
}

StatusOr<Answer> Platform::Submit(std::string_view raw, std::string_view sender, int64_t now_ms) {
  auto prepared = Prepare(raw, sender, now_ms);
  if (!prepared.ok()) return prepared.status();
  if (prepared->ready) return std::move(*prepared->ready);
  std::vector<Prepared> group;
  group.push_back(std::move(*prepared));
  auto answers = CommitPrepared(group);
  if (!answers.ok()) return answers.status();
  return std::move(answers->front());
}

StatusOr<Platform::Prepared> Platform::Prepare(std::string_view raw, std::string_view sender,
                                               int64_t now_ms) {
  codec::DecodeResult decoded = codec::Decode(raw, options_.limits);
  return PrepareMessage(raw, nullptr, nullptr, decoded, &decoded, sender, now_ms);
}

StatusOr<Platform::Prepared> Platform::Prepare(std::string_view raw,
                                               const codec::DecodeResult& decoded,
                                               std::string_view sender, int64_t now_ms) {
  return PrepareMessage(raw, nullptr, nullptr, decoded, nullptr, sender, now_ms);
}

StatusOr<Platform::Prepared> Platform::Prepare(std::string&& raw, codec::DecodeResult&& decoded,
                                               std::string_view sender, int64_t now_ms,
                                               StoredRaw* stored, bool unstored) {
  return PrepareMessage(raw, &raw, stored, decoded, &decoded, sender, now_ms, unstored);
}

StatusOr<Platform::Prepared> Platform::PrepareMessage(
    std::string_view raw, std::string* owned, StoredRaw* stored, const codec::DecodeResult& decoded,
    codec::DecodeResult* owned_decoded, std::string_view sender, int64_t now_ms, bool unstored) {
  // The row's copy of the bytes: taken from `owned` when the caller gave them (`raw` views them,
  // so it is not read after this).
  auto keep_raw = [&] { return owned ? std::move(*owned) : std::string(raw); };
  if (broken_) return Unavailable("the store failed earlier; reopen the platform");
  storage::MessageRow row;
  row.received_ms = now_ms;
  row.sender = std::string(sender);

  auto format_failure = [&](const codec::DecodeFailure& f) -> StatusOr<Prepared> {
    // Keep the raw bytes of rejected messages too (audit), unless they are over the size limit.
    row.guid = f.message_guid;
    row.type = f.root_name;
    row.accepted = false;
    clearance::StepResult step;
    step.receipts.push_back(
        clearance::Emitted{MessageType::kCEB900,
                           f.message_guid,
                           f.status,
                           codec::PackRecordOf(clearance::MakeFormatReceipt(
                               f.message_guid, f.status, f.info, f.root_name, raw, now_ms)),
                           {}});
    row.raw = raw.size() <= options_.limits.max_message_bytes ? keep_raw() : std::string();
    return BuildBatch(std::move(row), std::move(step), {std::string_view(f.message_guid)});
  };

  if (auto* f = std::get_if<codec::DecodeFailure>(&decoded)) return format_failure(*f);
  const auto& dm = std::get<codec::DecodedMessage>(decoded);
  if (!IsDeclaration(dm.message.type)) {
    return format_failure(codec::DecodeFailure{
        "-2",
        std::string("[Code:0002;Desc:数据包不能通过schema验证] ") +
            MessageTypeName(dm.message.type) +
            "Message is sent by customs, not to it: send a declaration (import CEB311, 411, 511, "
            "513, 621, 623, 625, 711; export CEB303, 403, 505, 507, 509, 603, 605, 607, 213, 215, "
            "701)",
        std::string(MessageTypeName(dm.message.type)) + "Message", dm.message.guid});
  }
  // A message already processed is answered with its original receipts and changes nothing.
  if (pending_guids_.count(dm.message.guid) != 0) {
    Prepared p;
    p.commit_first = true;
    return p;
  }
  auto seen = unstored ? StatusOr<std::optional<std::vector<storage::StoredReceipt>>>(std::nullopt)
                       : store_->ReceiptsOfMessage(dm.message.guid);
  if (!seen.ok()) return seen.status();
  if (seen->has_value()) {
    // The original receipts go only to the enterprise that sent the original.
    auto original_sender = store_->SenderOfMessage(dm.message.guid);
    if (!original_sender.ok()) return original_sender.status();
    if (sender.empty() || original_sender->value_or("") == sender) {
      Prepared p;
      p.ready = Answer{std::move(**seen), true};
      return p;
    }
    return format_failure(codec::DecodeFailure{
        "-2",
        "[Code:0002;Desc:数据包不能通过schema验证] the message guid " + dm.message.guid +
            " was already used by another enterprise: give every message its own guid",
        std::string(MessageTypeName(dm.message.type)) + "Message", ""});
  }

  if (row.sender.empty()) {
    row.sender = dm.message.base_transfer->copCode;
  } else if (dm.message.base_transfer->copCode != row.sender) {
    // Spec 1.4: BaseTransfer.copCode "需要与接入客户端的企业身份一致".
    return format_failure(codec::DecodeFailure{
        "-2",
        "[Code:0002;Desc:数据包不能通过schema验证] BaseTransfer.copCode " +
            dm.message.base_transfer->copCode.substr(0, 18) +
            " is not the enterprise this connection is authenticated as (" + row.sender + ")",
        std::string(MessageTypeName(dm.message.type)) + "Message", dm.message.guid});
  }
  row.guid = dm.message.guid;
  row.type = MessageTypeName(dm.message.type);
  row.accepted = true;
  if (stored && stored->format != 0) {  // the same bytes, packed as the store keeps them
    row.raw = std::move(stored->bytes);
    row.raw_format = stored->format;
  } else {
    row.raw = keep_raw();
  }
  KJ_RETURN_IF_ERROR(RecordRiskRulesInUse(now_ms));
  // The records' guids, read before the engine may take the records: copied into one buffer
  // and sorted as views of it (a set of strings was two allocations per document).
  std::string own_text;
  std::vector<std::string_view> own;
  {
    size_t size = 0;
    for (const Record& r : dm.message.records) size += RecordGuid(r).size();
    own_text.reserve(size);  // no reallocation below: the views stay valid
    own.reserve(dm.message.records.size());
    for (const Record& r : dm.message.records) {
      const std::string& guid = RecordGuid(r);
      own_text.append(guid);
      own.emplace_back(own_text.data() + own_text.size() - guid.size(), guid.size());
    }
    std::sort(own.begin(), own.end());
  }
  auto* given = owned_decoded ? std::get_if<codec::DecodedMessage>(owned_decoded) : nullptr;
  clearance::StepResult step = IsExport(dm.message.type)
                                   ? export_engine_->Process(dm, row.sender, now_ms)
                               : given ? engine_->Process(std::move(*given), row.sender, now_ms)
                                       : engine_->Process(dm, row.sender, now_ms);
  if (!step.status.ok()) {
    broken_ = true;  // the engine decided without a clearance it could not read back
    return step.status;
  }
  pending_guids_.insert(dm.message.guid);
  return BuildBatch(std::move(row), std::move(step), own);
}

StatusOr<std::vector<Answer>> Platform::CommitPrepared(std::vector<Prepared>& group, bool sync,
                                                       bool render) {
  std::vector<storage::CommitBatch*> batches;
  for (Prepared& p : group) batches.push_back(&p.batch);
  pending_guids_.clear();
  if (broken_) return Unavailable("the store failed earlier; reopen the platform");
  std::vector<storage::Store::SharedReceipts> kept;
  Status st = sync     ? store_->CommitTaking(batches)
              : render ? store_->CommitUnsyncedTaking(batches)
                       : store_->CommitUnsyncedSharing(batches, &kept);
  if (!st.ok()) {
    broken_ = true;  // memory is ahead of the disk now
    return st;
  }
  engine_->Evict();  // what settled is committed: the engine can read it back from the store
  std::vector<Answer> answers;
  for (size_t i = 0; i < group.size(); ++i) {
    Prepared& p = group[i];
    Answer answer;
    if (i < kept.size() && kept[i] != nullptr) {
      answer.stored = std::move(kept[i]);  // the store took the receipts too
      // Repeats add earlier receipts below, once: the rare case copies.
      if (!p.resend_guids.empty()) answer.receipts = *std::exchange(answer.stored, nullptr);
    } else {
      answer.receipts = std::move(p.batch.receipts);  // the store took the rest, or copied it
    }
    if (render || !p.resend_guids.empty()) {
      for (storage::StoredReceipt& r : answer.receipts)
        KJ_RETURN_IF_ERROR(storage::RenderReceipt(r));
    }
    // Records that repeat an earlier declaration get that declaration's receipts again (read
    // after the commit, so that declarations committed in the same group are found too).
    for (const std::string& guid : p.resend_guids) {
      auto old = store_->ReceiptsAnswering(guid);
      if (!old.ok()) return old.status();
      for (auto& r : *old) {
        const bool already =
            std::any_of(answer.receipts.begin(), answer.receipts.end(),
                        [&](const storage::StoredReceipt& x) { return x.xml == r.xml; });
        if (!already) answer.receipts.push_back(std::move(r));
      }
    }
    answers.push_back(std::move(answer));
  }
  return answers;
}

StatusOr<Answer> Platform::Decide(const clearance::OfficerDecision& d, int64_t now_ms) {
  if (broken_) return Unavailable("the store failed earlier; reopen the platform");
  auto step = engine_->Decide(d, now_ms);
  if (!step.ok()) return step.status();
  storage::MessageRow row;
  row.type = "DECISION";
  row.guid = DeterministicGuid("decision" + d.invt_no + std::to_string(now_ms));
  row.sender = d.officer;
  row.received_ms = now_ms;
  row.accepted = true;
  // "release|inspect|reject INVTNO reason": what a replay feeds back through Decide.
  row.raw = std::string(d.action == clearance::OfficerDecision::Action::kRelease   ? "release "
                        : d.action == clearance::OfficerDecision::Action::kInspect ? "inspect "
                                                                                   : "reject ") +
            d.invt_no + " " + d.reason;
  std::vector<Prepared> group;
  group.push_back(BuildBatch(std::move(row), std::move(*step), {}));
  auto answers = CommitPrepared(group);
  if (!answers.ok()) return answers.status();
  return std::move(answers->front());
}

Platform::Prepared Platform::BuildBatch(storage::MessageRow row, clearance::StepResult step,
                                        const std::vector<std::string_view>& own_guids) {
  Prepared p;
  storage::CommitBatch& batch = p.batch;
  batch.message = std::move(row);
  // Every refusal (a negative status, or 100 海关退单) is counted by day, receipt type and code
  // (docs/METRICS.md, "Refusals"); the counts are committed with the message that caused them.
  bool refused = false;
  batch.receipts.reserve(step.receipts.size());
  for (clearance::Emitted& e : step.receipts) {
    if (clearance::status::IsRefusal(e.status)) {
      stats_->AddRefusal(stats::DayOf(batch.message.received_ms), MessageTypeName(e.type),
                         e.status);
      refused = true;
    }
    // The receipt is kept as its record, packed; its XML is written where it is shown
    // (storage::StoredReceipt::packed). The parties are not read again; nor are the guid and the
    // status, which move.
    storage::StoredReceipt r;
    r.type = MessageTypeName(e.type);
    r.packed = std::move(e.receipt);
    r.audience = std::move(e.parties);
    // The sender reads the receipts of what it sent, also when it is not named in it (an express
    // company sending orders on a platform's behalf, or a declaration that named nobody valid).
    // The parties first: the sender is nearly always one of them, and they are a few short codes
    // where the message's guids are up to a hundred of 36 characters.
    const std::string& sender = batch.message.sender;
    if (!sender.empty() &&
        std::find(r.audience.begin(), r.audience.end(), sender) == r.audience.end() &&
        std::binary_search(own_guids.begin(), own_guids.end(), std::string_view(e.answers_guid))) {
      r.audience.push_back(sender);
    }
    r.answers_guid = std::move(e.answers_guid);
    r.status = std::move(e.status);
    batch.receipts.push_back(std::move(r));
  }
  batch.changes = std::move(step.changes);
  batch.ledger = std::move(step.ledger);
  if (refused) {
    std::vector<stats::StateRow> rows;
    stats_->TakeDirty(&rows);
    for (auto& r : rows)
      batch.changes.push_back(
          clearance::StateChange{std::move(r.kind), std::move(r.key), std::move(r.value), false});
  }
  p.resend_guids = std::move(step.resend_guids);
  return p;
}

StatusOr<std::vector<Answer>> Platform::SummarizeMonth(const SummaryRun& run, int64_t now_ms) {
  if (broken_) return Unavailable("the store failed earlier; reopen the platform");
  if (run.month < 1 || run.month > 12 || run.year < 2000 || run.year > 9999)
    return InvalidArgument("the month must be a real month, such as 2024-06");
  const std::string ym = std::to_string(run.year * 100 + run.month);
  const int64_t from = *ParseDate8(ym + "01");
  const int ny = run.month == 12 ? run.year + 1 : run.year;
  const int nm = run.month == 12 ? 1 : run.month + 1;
  const int64_t to = *ParseDate8(std::to_string(ny * 100 + nm) + "01");
  std::vector<Answer> answers;
  for (const auto& p : export_engine_->Pending(from, to)) {
    model::exp::SummaryApply a;
    auto& h = a.head;
    // A later run for the same month (lists that departed late) is a new application.
    const std::string seed =
        "summary/" + ym + "/" + p.agent_code + "/" + p.ebc_code + "/" + std::to_string(now_ms);
    h.guid = DeterministicGuid(seed);
    h.appType = "1";
    h.appTime = FormatAppTime(now_ms);
    h.appStatus = "2";
    h.customsCode = p.customs_code;
    h.copNo = "KJ" + ym + "-" + h.guid.substr(0, 8) + h.guid.substr(9, 4);
    h.agentCode = p.agent_code;
    h.agentName = p.agent_name;
    h.ebcCode = p.ebc_code;
    h.ebcName = p.ebc_name;
    h.declAgentCode = p.agent_code;
    h.declAgentName = p.agent_name;
    h.startTime = FormatAppTime(from);
    h.endTime = FormatAppTime(to - 1000);
    h.summaryFlag = run.summary_flag;
    h.itemNameFlag = run.item_name_flag;
    h.msgCount = 1;
    h.msgSeqNo = 1;
    h.note = "monthly summary made by kuajing on the agent's behalf";
    auto answer = ApplySummary(a, now_ms);
    if (!answer.ok()) return answer.status();
    answers.push_back(std::move(*answer));
  }
  return answers;
}

StatusOr<Answer> Platform::ApplySummary(const model::exp::SummaryApply& a, int64_t now_ms) {
  if (broken_) return Unavailable("the store failed earlier; reopen the platform");
  Message m;
  m.type = MessageType::kCEB701;
  m.guid = a.head.guid;
  m.records.push_back(a);
  storage::MessageRow row;
  row.guid = a.head.guid;
  row.type = "SUMMARY";
  row.sender = "kuajing";
  row.received_ms = now_ms;
  row.accepted = true;
  row.raw = codec::Encode(m);
  std::vector<Prepared> group;
  group.push_back(BuildBatch(std::move(row), export_engine_->SummarizeOnBehalf(a, now_ms), {}));
  auto answers = CommitPrepared(group);
  if (!answers.ok()) return answers.status();
  return std::move(answers->front());
}

Status Platform::RecordRiskRulesInUse(int64_t now_ms) {
  const std::string version = options_.rules.risk_rules ? options_.rules.risk_rules->version : "";
  if (version == recorded_risk_version_) return Status::Ok();
  // "" stands for "no rules" in the history, so a replay turns them off at the same point.
  KJ_RETURN_IF_ERROR(store_->RecordRiskRules(
      {version, now_ms, options_.rules.risk_rules ? options_.rules.risk_rules->text : ""}));
  recorded_risk_version_ = version;
  return Status::Ok();
}

void Platform::SetRiskRules(std::shared_ptr<const risk::Rules> rules) {
  options_.rules.risk_rules = rules;
  engine_->SetRiskRules(std::move(rules));
}

StatusOr<std::string> Platform::ReloadRiskRules() {
  if (options_.risk_rules_path.empty())
    return FailedPrecondition("no risk rules file is configured (risk.rules or --risk-rules)");
  auto rules = risk::LoadRules(options_.risk_rules_path);
  if (!rules.ok()) return rules.status();
  auto shared = std::make_shared<const risk::Rules>(std::move(*rules));
  SetRiskRules(shared);
  return shared->version;
}

std::string Platform::EncodeCorrection(const CreditCorrection& c) {
  auto clean = [](std::string s) {
    std::replace(s.begin(), s.end(), '\t', ' ');
    std::replace(s.begin(), s.end(), '\n', ' ');
    return s;
  };
  switch (c.kind) {
    case CreditCorrection::Kind::kGrade:
      return "grade\t" + clean(c.subject) + "\t" + (c.grade ? credit::GradeName(*c.grade) : "-") +
             "\t" + clean(c.reason);
    case CreditCorrection::Kind::kAddBuyer:
      return "buyer-add\t" + clean(c.subject) + "\t" + clean(c.buyer_name) + "\t" + clean(c.reason);
    case CreditCorrection::Kind::kRemoveBuyer:
      return "buyer-remove\t" + clean(c.subject) + "\t\t" + clean(c.reason);
  }
  return {};
}

std::optional<Platform::CreditCorrection> Platform::ParseCorrection(std::string_view raw,
                                                                    std::string_view officer) {
  std::vector<std::string> f;
  for (size_t p = 0;;) {
    const size_t tab = raw.find('\t', p);
    f.emplace_back(raw.substr(p, tab == std::string_view::npos ? tab : tab - p));
    if (tab == std::string_view::npos) break;
    p = tab + 1;
  }
  if (f.size() != 4) return std::nullopt;
  CreditCorrection c;
  c.subject = f[1];
  c.reason = f[3];
  c.officer = std::string(officer);
  if (f[0] == "grade") {
    c.kind = CreditCorrection::Kind::kGrade;
    if (f[2] != "-") {
      c.grade = credit::GradeFromName(f[2]);
      if (!c.grade) return std::nullopt;
    }
  } else if (f[0] == "buyer-add") {
    c.kind = CreditCorrection::Kind::kAddBuyer;
    c.buyer_name = f[2];
  } else if (f[0] == "buyer-remove") {
    c.kind = CreditCorrection::Kind::kRemoveBuyer;
  } else {
    return std::nullopt;
  }
  return c;
}

Status Platform::CorrectCredit(const CreditCorrection& c, int64_t now_ms) {
  if (broken_) return Unavailable("the store failed earlier; reopen the platform");
  if (c.reason.empty() || c.reason.size() > 1000)
    return InvalidArgument("a reason (1 to 1000 bytes) is required: the history shows it");
  if (c.officer.empty()) return InvalidArgument("the officer making the correction is required");
  using Kind = CreditCorrection::Kind;
  if (c.kind == Kind::kGrade) {
    if (reference_->FindEnterprise(c.subject) == nullptr)
      return InvalidArgument("no registered enterprise " + c.subject.substr(0, 40));
    credit_->Override(c.subject, c.grade, c.officer, c.reason, now_ms);
  } else if (c.kind == Kind::kAddBuyer) {
    // GB 11643: the buyer's resident ID number, with its check digit.
    if (!IsValidResidentId(c.subject))
      return InvalidArgument("'" + c.subject.substr(0, 40) + "' is not a valid resident ID number");
    if (c.buyer_name.empty() || c.buyer_name.size() > 100)
      return InvalidArgument("the buyer's name (1 to 100 bytes) is required");
    credit_->AddBuyer(credit::DiscreditedBuyer{c.subject, c.buyer_name, now_ms,
                                               "officer's note: " + c.reason, c.officer});
  } else if (!credit_->RemoveBuyer(c.subject)) {
    return NotFound("buyer " + c.subject.substr(0, 40) + " is not on the discredited list");
  }
  storage::MessageRow row;
  row.type = "CREDIT";
  row.guid = DeterministicGuid("credit" + EncodeCorrection(c) + std::to_string(now_ms));
  row.sender = c.officer;
  row.received_ms = now_ms;
  row.accepted = true;
  row.raw = EncodeCorrection(c);
  clearance::StepResult step;
  clearance::FlushCredit(credit_.get(), &step.changes);
  std::vector<Prepared> group;
  group.push_back(BuildBatch(std::move(row), std::move(step), {}));
  auto answers = CommitPrepared(group);
  return answers.ok() ? Status::Ok() : answers.status();
}

clearance::QuotaView Platform::Quota(std::string_view buyer_id, int year) const {
  return engine_->Quota(buyer_id, year);
}

}  // namespace kuajing::app
