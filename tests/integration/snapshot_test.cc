// The engines' snapshot (app/snapshot.h, issue 7): a platform started from it must be the platform
// a start from every stored row gives. One zone's mixed stream (imports with risk rules, exports,
// mismatches, malformed messages, cancellations and returns) runs to half-way and stops with a
// snapshot; a copy of the folder without the snapshot starts the slow way. The two must then hold
// the same statistics, counts and held lists, and answer the rest of the stream (which cancels and
// returns lists settled before the stop, so read back from the store) byte for byte alike.
// A snapshot that does not fit the store (something committed after it, damage, other risk rules)
// is not used, and the start says why.
#include "app/snapshot.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "app/demo_batch.h"
#include "app/platform.h"
#include "app/simulate.h"
#include "common/civil_time.h"
#include "risk/risk.h"

namespace kuajing::app {
namespace {

namespace fs = std::filesystem;

SimulationOptions Stream() {
  SimulationOptions o;
  o.seed = 21;
  o.first_day_ms = *ParseDate8("20240610");
  o.days = 4;
  o.imports_per_day = 300;
  o.exports_per_day = 40;
  o.mismatch_share = 0.03;
  o.malformed_share = 0.01;
  o.cancel_share = 0.05;
  o.return_share = 0.08;
  return o;
}

PlatformOptions OptionsIn(const fs::path& dir, int keep_days = 0) {
  PlatformOptions o;
  o.data_dir = dir.string();
  o.reference_dir = KJ_SOURCE_DIR "/data/reference";
  auto rules = risk::LoadRules(KJ_SOURCE_DIR "/config/risk-rules.toml");
  EXPECT_TRUE(rules.ok());
  if (keep_days > 0) rules->keep_ms = int64_t{keep_days} * kMillisPerDay;
  o.rules.risk_rules = std::make_shared<const risk::Rules>(std::move(*rules));
  return o;
}

std::unique_ptr<Platform> OpenAt(const PlatformOptions& o) {
  auto p = Platform::Open(o);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? std::move(*p) : nullptr;
}

// Every receipt of a group, as the enterprise would get it.
using Answers = std::vector<std::string>;

// Prepares and commits `events` on `p` in one group (a repeat inside the group is committed
// first, as the server does) and returns the receipts in order.
Answers Feed(Platform& p, const std::vector<SimEvent>& events) {
  Answers out;
  std::vector<Platform::Prepared> group;
  auto commit = [&] {
    auto answers = p.CommitPrepared(group);
    EXPECT_TRUE(answers.ok()) << answers.status().ToString();
    if (answers.ok()) {
      for (const Answer& a : *answers) {
        for (const auto& r : a.receipts) out.push_back(r.type + " " + r.status + " " + r.xml);
      }
    }
    group.clear();
  };
  for (const SimEvent& e : events) {
    auto prepared = p.Prepare(e.xml, "", e.at_ms);
    if (prepared.ok() && prepared->commit_first) {
      commit();
      prepared = p.Prepare(e.xml, "", e.at_ms);
    }
    EXPECT_TRUE(prepared.ok()) << prepared.status().ToString();
    if (!prepared.ok()) continue;
    if (prepared->ready) {
      for (const auto& r : prepared->ready->receipts) out.push_back("repeat " + r.xml);
      continue;
    }
    group.push_back(std::move(*prepared));
  }
  commit();
  return out;
}

// The buyers' ID numbers and names the lists of `events` name.
std::vector<std::pair<std::string, std::string>> BuyersOf(const std::vector<SimEvent>& events) {
  static const std::regex kBuyer(
      "<ceb:buyerIdNumber>([^<]*)</ceb:buyerIdNumber><ceb:buyerName>([^<]*)</ceb:buyerName>");
  std::vector<std::pair<std::string, std::string>> out;
  for (const SimEvent& e : events) {
    for (std::sregex_iterator m(e.xml.begin(), e.xml.end(), kBuyer), end; m != end; ++m)
      out.emplace_back((*m)[1], (*m)[2]);
  }
  return out;
}

// Eight clearances of one buyer to one address, an hour apart from `at_ms`: more than five in a
// day is what the shipped velocity and ID-renting rules look for, so those of them after the
// stop are held or released by what the risk windows kept from before it.
std::vector<SimEvent> OneBuyersDay(int64_t at_ms, uint64_t first, size_t from, size_t to) {
  auto specs = GeneratedClearances(first, 8);
  std::vector<SimEvent> out;
  for (size_t k = from; k < to; ++k) {
    ClearanceSpec c = specs[k];
    c.buyer_id = specs[0].buyer_id;
    c.buyer_name = specs[0].buyer_name;
    c.buyer_phone = specs[0].buyer_phone;
    c.consignee_address = "湖南省衡阳市蒸湘区快照路8号";
    const int64_t t = at_ms + static_cast<int64_t>(k) * 3'600'000;
    c.app_time = FormatAppTime(t);
    const ClearanceMessages m = MakeClearance(c);
    for (const std::string* xml : {&m.order, &m.payment, &m.waybill, &m.inventory})
      out.push_back(SimEvent{t, "", *xml, "planted"});
  }
  return out;
}

// Every tenth order, payment and waybill of `events` again under a new message guid: the same
// documents, whose clearances are settled and out of memory by now, found by their fingerprints.
std::vector<SimEvent> Redeclared(const std::vector<SimEvent>& events, int64_t at_ms) {
  std::vector<SimEvent> out;
  for (size_t i = 0; i < events.size(); i += 10) {
    const SimEvent& e = events[i];
    if (e.kind != "order" && e.kind != "payment" && e.kind != "waybill") continue;
    std::string xml = e.xml;
    const size_t at = xml.find("Message guid=\"");
    if (at == std::string::npos) continue;
    char tail[8];
    std::snprintf(tail, sizeof tail, "%04zX", i % 0x10000);
    xml.replace(at + 14 + 32, 4, tail);  // the root guid's last four hex digits
    out.push_back(SimEvent{at_ms, e.sender, std::move(xml), e.kind});
  }
  return out;
}

// What the two starts must agree on before any new traffic.
void ExpectSameState(const Platform& a, const Platform& b, int64_t now_ms,
                     const std::vector<std::pair<std::string, std::string>>& buyers) {
  EXPECT_TRUE(a.stats() == b.stats());
  size_t counted = 0;
  for (const auto& [id, name] : buyers) {
    EXPECT_EQ(a.Quota(id, 2024).used, b.Quota(id, 2024).used) << id;
    EXPECT_EQ(a.engine().BuyerKnownAs(id, name), b.engine().BuyerKnownAs(id, name)) << id;
    counted += a.Quota(id, 2024).used.e5 != 0;
  }
  EXPECT_GT(counted, buyers.size() / 2);
  const auto ia = a.engine().counts(), ib = b.engine().counts();
  EXPECT_EQ(std::tie(ia.waiting, ia.held, ia.released, ia.in_store_only, ia.inventories),
            std::tie(ib.waiting, ib.held, ib.released, ib.in_store_only, ib.inventories));
  const auto ea = a.export_engine().counts(now_ms), eb = b.export_engine().counts(now_ms);
  EXPECT_EQ(std::tie(ea.waiting, ea.concluded, ea.released, ea.closed),
            std::tie(eb.waiting, eb.concluded, eb.released, eb.closed));
  const auto ha = a.engine().Held(1000), hb = b.engine().Held(1000);
  ASSERT_EQ(ha.size(), hb.size());
  for (size_t i = 0; i < ha.size(); ++i) {
    EXPECT_EQ(ha[i].invt_no, hb[i].invt_no);
    EXPECT_EQ(ha[i].risk_score, hb[i].risk_score);
  }
}

class Snapshot : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("kj-snapshot-" + std::to_string(::getpid()));
    fs::remove_all(base_);
    fs::create_directories(base_);
  }
  void TearDown() override { fs::remove_all(base_); }
  fs::path base_;
};

TEST_F(Snapshot, AStartFromItEqualsAStartFromEveryRow) {
  const fs::path a_dir = base_ / "a", b_dir = base_ / "b";
  Simulator sim(Stream());
  const int64_t half = Stream().first_day_ms + 2 * kMillisPerDay;
  std::vector<SimEvent> batch, all;
  SimEvent e;
  bool more = true;
  // The first half, on one platform, fed and answered as the server would (the simulator plans
  // its cancellations and returns from the receipts), then a stop with a snapshot.
  {
    auto a = OpenAt(OptionsIn(a_dir));
    ASSERT_TRUE(a);
    EXPECT_NE(a->start_note().find("no snapshot"), std::string::npos) << a->start_note();
    while ((more = sim.Next(&e)) && e.at_ms < half) {
      batch.push_back(e);
      all.push_back(e);
      if (batch.size() == 128) {
        Feed(*a, batch);  // answers checked below, once the two platforms run side by side
        batch.clear();
      }
    }
    Feed(*a, batch);
    batch.clear();
    Feed(*a, OneBuyersDay(half - 2 * 3'600'000, 700'000, 0, 1));
    ASSERT_GT(a->engine().counts().in_store_only, 200u);  // settled clearances out of memory
    ASSERT_GT(a->engine().counts().waiting + a->engine().counts().held, 0u);
    ASSERT_TRUE(a->SaveSnapshot().ok());
  }
  ASSERT_TRUE(fs::exists(SnapshotPath(a_dir.string())));
  fs::copy(a_dir, b_dir, fs::copy_options::recursive);
  fs::remove(SnapshotPath(b_dir.string()));

  auto a = OpenAt(OptionsIn(a_dir));
  auto b = OpenAt(OptionsIn(b_dir));
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->start_note().find("started from the snapshot"), std::string::npos)
      << a->start_note();
  EXPECT_NE(b->start_note().find("read every stored row"), std::string::npos) << b->start_note();
  const auto buyers = BuyersOf(all);
  ASSERT_GT(buyers.size(), 300u);
  ExpectSameState(*a, *b, half, buyers);

  // The second half on both: the same answers, byte for byte, group by group. It begins with the
  // rest of the planted buyer's day and the documents declared again.
  size_t receipts = 0;
  batch = OneBuyersDay(half - 2 * 3'600'000, 700'000, 1, 8);
  const std::vector<SimEvent> again = Redeclared(all, half + 1000);
  ASSERT_GT(again.size(), 100u);
  batch.insert(batch.end(), again.begin(), again.end());
  if (more) batch.push_back(e);
  auto run = [&] {
    const Answers x = Feed(*a, batch), y = Feed(*b, batch);
    ASSERT_EQ(x.size(), y.size());
    for (size_t i = 0; i < x.size(); ++i) ASSERT_EQ(x[i], y[i]) << "receipt " << receipts + i;
    receipts += x.size();
    batch.clear();
  };
  run();
  EXPECT_GT(a->engine().counts().held, 0u);
  while (sim.Next(&e)) {
    batch.push_back(e);
    if (batch.size() == 128) run();
  }
  run();
  EXPECT_GT(receipts, 2000u);
  ExpectSameState(*a, *b, Stream().first_day_ms + 5 * kMillisPerDay, buyers);
}

TEST_F(Snapshot, OneThatDoesNotFitTheStoreIsNotUsed) {
  const fs::path dir = base_ / "z";
  Simulator sim(Stream());
  std::vector<SimEvent> first, later;
  SimEvent e;
  while (sim.Next(&e) && first.size() + later.size() < 1200) {
    (first.size() < 800 ? first : later).push_back(e);
  }
  {
    auto p = OpenAt(OptionsIn(dir));
    ASSERT_TRUE(p);
    Feed(*p, first);
    ASSERT_TRUE(p->SaveSnapshot().ok());
    ASSERT_TRUE(p->SaveSnapshot().ok());  // nothing new: the file stays as it is
  }
  const std::string path = SnapshotPath(dir.string());
  const auto written = fs::last_write_time(path);
  {
    auto p = OpenAt(OptionsIn(dir));  // opened and closed without a commit: still fits
    ASSERT_TRUE(p);
    EXPECT_NE(p->start_note().find("started from the snapshot"), std::string::npos);
    ASSERT_TRUE(p->SaveSnapshot().ok());
    EXPECT_EQ(fs::last_write_time(path), written);
    // Removed meanwhile: written again.
    fs::remove(path);
    ASSERT_TRUE(p->SaveSnapshot().ok());
    EXPECT_TRUE(fs::exists(path));
    // Risk rules that keep another span would keep other windows: a full start.
    p.reset();
    p = OpenAt(OptionsIn(dir, 90));
    ASSERT_TRUE(p);
    EXPECT_NE(p->start_note().find("the risk rules keep"), std::string::npos) << p->start_note();
    const stats::Aggregates full = p->stats();
    p.reset();
    p = OpenAt(OptionsIn(dir));
    ASSERT_TRUE(p);
    EXPECT_TRUE(p->stats() == full);
    // A commit after the snapshot, and a stop without one (a crash, a kill): a full start.
    Feed(*p, later);
  }
  auto p = OpenAt(OptionsIn(dir));
  ASSERT_TRUE(p);
  EXPECT_NE(p->start_note().find("something was committed after it"), std::string::npos)
      << p->start_note();
  ASSERT_TRUE(p->SaveSnapshot().ok());
  const auto counts = p->engine().counts();
  p.reset();
  // Damage: one byte of the body changed.
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(40);  // inside the body (after the 8-byte magic)
    f.put('\x5a');
  }
  p = OpenAt(OptionsIn(dir));
  ASSERT_TRUE(p);
  EXPECT_NE(p->start_note().find("damaged"), std::string::npos) << p->start_note();
  EXPECT_EQ(p->engine().counts().released, counts.released);
  p.reset();
  // Cut short.
  ASSERT_TRUE(p == nullptr);
  fs::resize_file(path, fs::file_size(path) / 2);
  p = OpenAt(OptionsIn(dir));
  ASSERT_TRUE(p);
  EXPECT_NE(p->start_note().find("cut short"), std::string::npos) << p->start_note();
}

}  // namespace
}  // namespace kuajing::app
