#include "app/replay.h"

#include <filesystem>

#include "common/civil_time.h"
#include "storage/journaled_store.h"
#include "storage/sqlite_store.h"

namespace kuajing::app {

namespace fs = std::filesystem;

namespace {

std::string Field(const std::string& xml, const std::string& name) {
  const std::string open = "<ceb:" + name + ">";
  size_t b = xml.find(open);
  if (b == std::string::npos) return "";
  b += open.size();
  return xml.substr(b, xml.find("</ceb:" + name + ">", b) - b);
}

// The last CEB622 status per list guid.
void FinalDecisions(const std::vector<storage::StoredReceipt>& rs,
                    std::map<std::string, std::string>* out) {
  for (const auto& r : rs)
    if (r.type == "CEB622") (*out)[r.answers_guid] = r.status;
}

}  // namespace

StatusOr<ReplayReport> Replay(const ReplayOptions& o) {
  if (o.scratch_dir.empty()) return InvalidArgument("replay needs a scratch folder");
  for (const char* f : {"kuajing.db", "kuajing.db-wal", "kuajing.db-shm", "journal"}) {
    std::error_code ec;
    fs::remove_all(fs::path(o.scratch_dir) / f, ec);
  }
  // The zone's own store, with its journal written into SQL first. While a server holds it, the
  // SQL store alone: everything but the last moment's commits (the server writes its journal into
  // SQL within milliseconds).
  auto original = storage::OpenJournaledStore(o.platform.data_dir);
  if (!original.ok() && original.status().code() == StatusCode::kFailedPrecondition)
    original = storage::OpenSqliteStore(o.platform.data_dir);
  if (!original.ok()) return original.status();
  auto history = (*original)->RiskRulesHistory();
  if (!history.ok()) return history.status();

  PlatformOptions scratch = o.platform;
  scratch.data_dir = o.scratch_dir;
  scratch.rules.risk_rules = nullptr;
  scratch.risk_rules_path.clear();
  auto replay = Platform::Open(scratch);
  if (!replay.ok()) return replay.status();
  Platform& p = **replay;

  ReplayReport report;
  std::map<std::string, std::string> before, after;  // list guid -> final CEB622 status
  std::string in_force = "-";
  size_t next_version = 0;
  auto use = [&](const std::string& version, std::shared_ptr<const risk::Rules> rules) {
    if (version == in_force) return;
    in_force = version;
    p.SetRiskRules(std::move(rules));
    report.rules_versions.push_back(version.empty() ? "(none)" : version);
  };
  Status st = (*original)->ForEachMessage(
      o.to_ms,
      [&](const storage::MessageRow& m,
          const std::vector<storage::StoredReceipt>& stored) -> Status {
        // The rules in force when the message came.
        if (o.what_if && m.received_ms >= o.from_ms) {
          use(o.what_if->version, o.what_if);
        } else {
          while (next_version < history->size() &&
                 (*history)[next_version].from_ms <= m.received_ms) {
            const auto& v = (*history)[next_version++];
            if (v.version.empty()) {
              use("", nullptr);
            } else {
              auto rules = risk::ParseRules(v.text);
              if (!rules.ok()) return rules.status();
              use(v.version, std::make_shared<const risk::Rules>(std::move(*rules)));
            }
          }
        }
        ++report.messages;
        std::vector<storage::StoredReceipt> got;
        if (m.type == "DECISION") {
          // "release|inspect|reject INVTNO reason"
          clearance::OfficerDecision d;
          size_t a = m.raw.find(' '), b = m.raw.find(' ', a + 1);
          const std::string action = m.raw.substr(0, a);
          d.invt_no = m.raw.substr(a + 1, b == std::string::npos ? b : b - a - 1);
          d.reason = b == std::string::npos ? "" : m.raw.substr(b + 1);
          d.officer = m.sender;
          d.action = action == "release"   ? clearance::OfficerDecision::Action::kRelease
                     : action == "inspect" ? clearance::OfficerDecision::Action::kInspect
                                           : clearance::OfficerDecision::Action::kReject;
          auto answer = p.Decide(d, m.received_ms);
          if (answer.ok()) got = std::move(answer->receipts);
        } else if (m.type == "CREDIT") {
          // An officer's credit correction: no receipts, but it changes later decisions.
          auto c = Platform::ParseCorrection(m.raw, m.sender);
          if (!c) return Internal("the stored credit correction " + m.guid + " cannot be read");
          KJ_RETURN_IF_ERROR(p.CorrectCredit(*c, m.received_ms));
        } else if (m.type == "SUMMARY") {
          codec::DecodeOptions stored_copy;  // kuajing's own message: no BaseTransfer
          stored_copy.require_base_transfer = false;
          auto d = codec::Decode(m.raw, stored_copy);
          auto* dm = std::get_if<codec::DecodedMessage>(&d);
          auto* a =
              dm ? std::get_if<model::exp::SummaryApply>(&dm->message.records.at(0)) : nullptr;
          if (a == nullptr) return Internal("the stored summary " + m.guid + " cannot be read");
          auto answer = p.ApplySummary(*a, m.received_ms);
          if (!answer.ok()) return answer.status();
          got = std::move(answer->receipts);
        } else if (!m.accepted && m.raw.empty()) {
          ++report.not_replayable;
          return Status::Ok();
        } else {
          auto prepared = p.Prepare(m.raw, m.sender, m.received_ms);
          if (!prepared.ok()) return prepared.status();
          if (!prepared->ready) {
            std::vector<Platform::Prepared> group;
            group.push_back(std::move(*prepared));
            got = group.front().batch.receipts;
            auto answers = p.CommitPrepared(group);
            if (!answers.ok()) return answers.status();
          }
        }
        if (m.received_ms < o.from_ms) return Status::Ok();
        for (storage::StoredReceipt& r : got) KJ_RETURN_IF_ERROR(storage::RenderReceipt(r));
        ++report.compared;
        FinalDecisions(stored, &before);
        FinalDecisions(got, &after);
        bool same = got.size() == stored.size();
        for (size_t i = 0; same && i < got.size(); ++i) same = got[i].xml == stored[i].xml;
        if (same) {
          ++report.identical;
        } else {
          ++report.differing;
          if (report.differences.size() < 100) {
            // The first receipt that differs, and what it answers.
            size_t i = 0;
            while (i < got.size() && i < stored.size() && got[i].xml == stored[i].xml) ++i;
            auto describe = [](const std::vector<storage::StoredReceipt>& rs, size_t k) {
              return k < rs.size() ? rs[k].type + ":" + rs[k].status + " for " + rs[k].answers_guid
                                   : std::string("(none)");
            };
            const std::string reason = i < got.size() ? Field(got[i].xml, "returnInfo") : "";
            report.differences.push_back(
                {m.guid, m.type, describe(stored, i), describe(got, i), reason.substr(0, 300)});
          }
        }
        return Status::Ok();
      });
  if (!st.ok()) return st;
  for (const auto& [guid, status] : before) {
    auto it = after.find(guid);
    ++report.decision_changes[{status, it == after.end() ? "-" : it->second}];
  }
  replay->reset();
  fs::remove_all(o.scratch_dir);
  return report;
}

std::string FormatReport(const ReplayReport& r, bool what_if) {
  std::string out = "replayed " + std::to_string(r.messages) + " messages; compared " +
                    std::to_string(r.compared) + " in the period: " + std::to_string(r.identical) +
                    " identical, " + std::to_string(r.differing) + " different";
  if (r.not_replayable) out += ", " + std::to_string(r.not_replayable) + " not replayable";
  out += "\nrules used: ";
  for (size_t i = 0; i < r.rules_versions.size(); ++i)
    out += (i ? " -> " : "") + r.rules_versions[i];
  if (r.rules_versions.empty()) out += "(none)";
  out += "\n";
  if (what_if || r.differing) {
    out += "final list decisions (CEB622), recorded -> replayed:\n";
    for (const auto& [k, n] : r.decision_changes) {
      if (!what_if && k.first == k.second) continue;
      out += "  " + k.first + " -> " + k.second + ": " + std::to_string(n) + "\n";
    }
    for (const auto& d : r.differences) {
      out += "  " + d.type + " " + d.guid + ": " + d.before + "  =>  " + d.after +
             (d.reason_after.empty() ? "" : "  (" + d.reason_after + ")") + "\n";
    }
  }
  return out;
}

}  // namespace kuajing::app
