#include "app/simulate.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "clearance/rules.h"
#include "common/civil_time.h"

namespace kuajing::app {

namespace {

struct ImportGoods {
  const char* gcode;  // on the retail-import positive list (data/reference/goods.csv)
  const char* name;
  const char* unit;
  int64_t price_fen;
  const char* country;  // origin
  int weight;           // how often it sells, relative
};

// What a Hunan zone's buyers order: baby formula and care, cosmetics, health food, wine, small
// electronics, a few dear goods.
constexpr std::array<ImportGoods, 22> kImportGoods = {{
    {"1901101000", "婴幼儿配方奶粉", "122", 26800, "609", 14},
    {"9619001100", "婴儿纸尿裤", "125", 12900, "116", 12},
    {"3304990099", "保湿面霜", "142", 32800, "116", 12},
    {"3304100000", "口红", "142", 32000, "305", 6},
    {"2106909090", "复合维生素片", "140", 19800, "601", 8},
    {"2106903000", "鱼油软胶囊", "140", 23900, "601", 6},
    {"0402210000", "全脂奶粉", "122", 15900, "601", 6},
    {"0409000000", "麦卢卡蜂蜜", "122", 19800, "609", 4},
    {"3305100000", "洗发水", "142", 8900, "116", 8},
    {"3306101000", "牙膏", "142", 3900, "133", 6},
    {"3401110000", "手工皂", "007", 4500, "133", 3},
    {"1806310000", "夹心巧克力", "125", 8900, "331", 4},
    {"2204210000", "红葡萄酒", "142", 39800, "305", 4},
    {"3303000000", "淡香水", "142", 68000, "305", 4},
    {"2309101000", "猫粮", "125", 22900, "502", 4},
    {"6111200000", "棉制婴儿连体衣", "011", 19900, "133", 3},
    {"6403990090", "皮革休闲鞋", "025", 89900, "502", 2},
    {"8518300000", "降噪耳机", "007", 129900, "502", 2},
    {"8510100000", "电动剃须刀", "007", 89900, "304", 2},
    {"9102110000", "石英手表", "008", 158000, "116", 1},
    {"4202210090", "真皮手提包", "011", 249900, "307", 1},
    {"8715000000", "婴儿推车", "007", 568000, "309", 1},  // over 5,000 alone: held for review
}};

constexpr std::array<const char*, 20> kSurnames = {"王", "李", "张", "刘", "陈", "杨", "黄",
                                                   "赵", "周", "吴", "徐", "孙", "胡", "朱",
                                                   "高", "林", "何", "郭", "马", "罗"};
constexpr std::array<const char*, 24> kGiven = {
    "伟", "芳", "娜", "敏", "静", "丽",   "强", "磊", "洋", "艳",   "勇",   "军",
    "杰", "娟", "涛", "明", "超", "秀英", "霞", "平", "刚", "桂英", "子涵", "欣怡"};
constexpr std::array<const char*, 5> kDistricts = {"蒸湘区", "雁峰区", "石鼓区", "珠晖区",
                                                   "南岳区"};
constexpr std::array<const char*, 6> kRoads = {"解放大道", "船山大道", "蒸湘北路",
                                               "衡州大道", "延安路",   "先锋路"};

// Who sends what: the registered demo enterprises that `serve --demo-keys` makes keys for.
constexpr std::array<const char*, 2> kPlatforms = {"4304961001", "4304961002"};
constexpr std::array<const char*, 3> kImportEbcs = {"4304962001", "4304961002", "4304962001"};
constexpr std::array<const char*, 2> kExportEbcs = {"4304962002", "4304962001"};

// A day's shape: the share of the day's traffic in each CST hour (evening peak, quiet night).
constexpr std::array<int, 24> kHourWeights = {3, 2, 1, 1, 1, 1, 2, 3, 5,  6,  7,  7,
                                              7, 6, 6, 6, 6, 6, 7, 8, 10, 12, 10, 6};

std::string AppTime(int64_t ms) { return FormatAppTime(ms); }

}  // namespace

bool PresetOptions(const std::string& name, double scale, SimulationOptions* out) {
  if (scale <= 0 || scale > 10) return false;
  if (name == "day") {
    out->days = 1;
    out->imports_per_day = 2000 * scale;
    out->exports_per_day = 300 * scale;
    return true;
  }
  if (name == "double11") {
    // A Double-11 day at the national peak rate: 85,000 import lists a minute all day (海关总署,
    // "618" 2024), i.e. 122.4 million lists; --scale 0.001 makes it 122,400.
    out->days = 1;
    out->imports_per_day = 85000.0 * 60 * 24 * scale;
    out->exports_per_day = 0;
    return true;
  }
  if (name == "hengyang-year") {
    // The seed article's 2021 figures: 1.744 bn CNY in all, 1.725 bn of it export, 130 M USD
    // (about 0.84 bn CNY at 6.45) of that 9710 B2B. Imports (19 M CNY) at about 450 CNY a list
    // are ~42,000 lists a year; exports: 9710 lists average ~30,000 USD (about 4,300 a year),
    // 9810 ~40,000 CNY (~7,500), and 9610 parcels ~530 CNY make up the rest (~1.1 M).
    out->days = 365;
    out->imports_per_day = 42000.0 / 365 * scale;
    out->exports_per_day = 1'110'000.0 / 365 * scale;
    out->export_9710_share = 4300.0 / 1'110'000;
    out->export_9810_share = 7500.0 / 1'110'000;
    return true;
  }
  return false;
}

Simulator::Simulator(SimulationOptions options) : o_(std::move(options)), rng_(o_.seed) {}

std::vector<std::string> Simulator::Senders() {
  return {"4304961001", "4304961002", "312226T001", "4304964001",
          "4304963001", "4304962001", "4304962002", "4304965002"};
}

int64_t Simulator::StartTime(int64_t day_start) {
  static const int total = [] {
    int t = 0;
    for (int w : kHourWeights) t += w;
    return t;
  }();
  int pick = static_cast<int>(rng_() % static_cast<uint64_t>(total));
  int hour = 0;
  while (pick >= kHourWeights[static_cast<size_t>(hour)])
    pick -= kHourWeights[static_cast<size_t>(hour++)];
  return day_start + hour * 3'600'000LL + static_cast<int64_t>(rng_() % 3'600'000);
}

void Simulator::Push(int64_t at, const std::string& sender, std::string xml, const char* kind) {
  queue_.push(Later{at, serial_++, SimEvent{at, sender, std::move(xml), kind}});
}

void Simulator::AddImport(int64_t at, uint64_t n) {
  std::uniform_real_distribution<double> u(0, 1);
  ClearanceSpec s;
  s.seed = o_.seed * 1'000'000'007ULL + n;
  char no[48];
  std::snprintf(no, sizeof no, "SIM%llu-%08llu", static_cast<unsigned long long>(o_.seed),
                static_cast<unsigned long long>(n));
  s.order_no = no;
  s.logistics_no = std::string("SF") + (no + 3);
  // Buyers: a pool about half the number of clearances. A quarter of the orders come from the
  // regulars (a twentieth of the pool); half a percent from a few heavy buyers (one in 2,000) who
  // buy dear goods until the annual amount runs out; the rest from anyone.
  const auto pool = static_cast<uint64_t>(std::max(100.0, o_.imports_per_day * o_.days / 2));
  const uint64_t heavy_buyers = std::max<uint64_t>(1, pool / 2000);
  const double who = u(rng_);
  const bool heavy = who < 0.005;
  const uint64_t buyer = heavy         ? rng_() % heavy_buyers
                         : who < 0.255 ? heavy_buyers + rng_() % std::max<uint64_t>(1, pool / 20)
                                       : heavy_buyers + rng_() % pool;
  const uint64_t person = o_.seed * 7'919 + buyer;
  s.buyer_id = MakeResidentId(person);
  s.buyer_name = std::string(kSurnames[person % kSurnames.size()]) +
                 kGiven[person / kSurnames.size() % kGiven.size()];
  s.buyer_phone = "13" + std::to_string(100000000 + person % 899999999);
  s.consignee_address = std::string("湖南省衡阳市") + kDistricts[person % kDistricts.size()] +
                        kRoads[person / 5 % kRoads.size()] + std::to_string(1 + person % 899) +
                        "号" + std::to_string(1 + person / 899 % 30) + "栋" +
                        std::to_string(101 + person / 26970 % 28) + "室";
  s.ebp_code = kPlatforms[n % kPlatforms.size()];
  s.ebc_code = kImportEbcs[(n / 2) % kImportEbcs.size()];
  s.trade_mode = u(rng_) < o_.direct_mail_share ? "9610" : "1210";
  s.app_time = AppTime(at);
  // The basket: one to three goods by popularity; the most frequent buyers buy dearer goods.
  int total = 0;
  for (const auto& g : kImportGoods) total += g.weight;
  const bool over_limit = !heavy && u(rng_) < o_.over_limit_share;
  const int lines = over_limit ? 3 : heavy ? 2 : 1 + static_cast<int>(rng_() % 3);
  for (int i = 0; i < lines; ++i) {
    const ImportGoods* g = nullptr;
    if (over_limit || heavy) {  // watch, handbag, shaver: two stay under 5,000, three do not
      g = &kImportGoods[kImportGoods.size() - 2 - rng_() % 3];
    } else {
      int pick = static_cast<int>(rng_() % static_cast<uint64_t>(total));
      for (const auto& c : kImportGoods) {
        if (pick < c.weight) {
          g = &c;
          break;
        }
        pick -= c.weight;
      }
    }
    if (lines > 1 && g == &kImportGoods.back()) g = &kImportGoods[0];  // the pram goes alone
    const int64_t qty = g->price_fen < 50000 ? 1 + static_cast<int64_t>(rng_() % 3) : 1;
    s.items.push_back(GoodsItem{g->gcode, g->name, g->unit, Decimal::FromUnits(qty),
                                Decimal::FromFen(g->price_fen), g->country});
  }
  s.freight = Decimal::FromFen(static_cast<int64_t>(rng_() % 4) * 500);
  if (over_limit) ++counts_.over_limit;

  ClearanceMessages m = MakeClearance(s);
  if (u(rng_) < o_.mismatch_share) {  // the list names the buyer otherwise than the order
    ClearanceSpec other = s;
    other.buyer_name = std::string(kSurnames[person % kSurnames.size()]) +
                       kGiven[(person / kSurnames.size() + 1) % kGiven.size()];
    m.inventory = MakeClearance(other).inventory;
    ++counts_.mismatched;
  }
  // The four documents come within ten minutes, in any order; the list usually last.
  struct Doc {
    std::string* xml;
    const std::string* sender;
    const char* kind;
  };
  std::array<Doc, 4> docs = {{{&m.order, &s.ebp_code, "order"},
                              {&m.payment, &s.pay_code, "payment"},
                              {&m.waybill, &s.logistics_code, "waybill"},
                              {&m.inventory, &s.agent_code, "inventory"}}};
  if (u(rng_) < 0.3) std::shuffle(docs.begin(), docs.end(), rng_);
  int64_t t = at;
  const bool malformed = u(rng_) < o_.malformed_share;
  for (size_t i = 0; i < docs.size(); ++i) {
    std::string xml = std::move(*docs[i].xml);
    const char* kind = docs[i].kind;
    if (malformed && i == 0) {  // cut short in transit: the platform answers a CEB900
      xml.resize(xml.size() / 2);
      kind = "malformed";
      ++counts_.malformed;
    }
    Push(t, *docs[i].sender, std::move(xml), kind);
    t += static_cast<int64_t>(rng_() % 150'000);
  }
  const double r = u(rng_);
  if (r < o_.cancel_share + o_.return_share)
    follow_ups_[m.inventory_guid] = FollowUp{s, r < o_.cancel_share};
  ++counts_.imports;
}

void Simulator::AddExport(int64_t at, uint64_t n) {
  std::uniform_real_distribution<double> u(0, 1);
  const CivilDate d = CivilFromDays(CstDay(at));
  ExportSpec s = GeneratedExports(o_.seed * 1'000'000'007ULL + n, 1, static_cast<int>(d.y), d.m)[0];
  char no[48];
  std::snprintf(no, sizeof no, "SIMX%llu-%08llu", static_cast<unsigned long long>(o_.seed),
                static_cast<unsigned long long>(n));
  s.order_no = no;
  s.logistics_no = std::string("SFX") + (no + 4);
  s.cop_no = std::string("C") + (no + 4);
  s.ebc_code = s.owner_code = kExportEbcs[n % kExportEbcs.size()];
  const double r = u(rng_);
  s.trade_mode = r < o_.export_9710_share                          ? "9710"
                 : r < o_.export_9710_share + o_.export_9810_share ? "9810"
                                                                   : "9610";
  if (s.trade_mode != "9610") {  // B2B and overseas-warehouse shipments are pallets, not parcels
    for (auto& it : s.items) {
      it.qty = Decimal::FromUnits(static_cast<int64_t>(200 + rng_() % 1800));
      it.qty1 = it.qty;
    }
    s.currency = "502";
  }
  s.app_time = AppTime(at);
  // Arrival at the supervised site 2-8 hours later, departure the next day.
  const int64_t arrive = at + 2 * 3'600'000LL + static_cast<int64_t>(rng_() % (6 * 3'600'000LL));
  const int64_t leave =
      arrive + 16 * 3'600'000LL + static_cast<int64_t>(rng_() % (8 * 3'600'000LL));
  s.leave_time = AppTime(leave);
  ExportMessages m = MakeExport(s);
  int64_t t = at;
  const std::pair<std::string*, std::pair<const std::string*, const char*>> docs[] = {
      {&m.order, {&s.ebc_code, "x_order"}},
      {&m.receipts, {&s.pay_code, "x_receipts"}},
      {&m.waybill, {&s.logistics_code, "x_waybill"}},
      {&m.inventory, {&s.agent_code, "x_inventory"}}};
  for (const auto& [xml, who] : docs) {
    Push(t, *who.first, std::move(*xml), who.second);
    t += static_cast<int64_t>(rng_() % 120'000);
  }
  Push(std::max(arrive, t), s.operator_code, std::move(m.arrival), "x_arrival");
  Push(std::max(leave, t + 1), s.logistics_code, std::move(m.departure), "x_departure");
  ++counts_.exports;
}

void Simulator::GenerateDay(int day) {
  const int64_t start = o_.first_day_ms + day * kMillisPerDay;
  std::uniform_real_distribution<double> jitter(0.8, 1.2);
  const auto imports = static_cast<uint64_t>(std::llround(o_.imports_per_day * jitter(rng_)));
  const auto exports = static_cast<uint64_t>(std::llround(o_.exports_per_day * jitter(rng_)));
  for (uint64_t i = 0; i < imports; ++i) AddImport(StartTime(start), counts_.imports);
  for (uint64_t i = 0; i < exports; ++i) AddExport(StartTime(start), counts_.exports);
}

bool Simulator::Next(SimEvent* out) {
  // Days are generated just before their first message is due, so the queue holds about a day.
  while (next_day_ < o_.days &&
         (queue_.empty() || queue_.top().at >= o_.first_day_ms + next_day_ * kMillisPerDay)) {
    GenerateDay(next_day_++);
  }
  // What would fall after the last simulated day (a return due next month) is not sent: the
  // stream ends with its last day, as a zone's history ends today.
  if (queue_.empty() || queue_.top().at >= o_.first_day_ms + o_.days * kMillisPerDay) return false;
  *out = std::move(const_cast<Later&>(queue_.top()).event);
  queue_.pop();
  ++counts_.messages;
  return true;
}

void Simulator::OnReceipt(const std::string& receipt_type, const std::string& status,
                          const std::string& declaration_guid, const std::string& invt_no,
                          int64_t now_ms) {
  if (receipt_type != "CEB622" || status != "800" || invt_no.empty()) return;
  auto f = follow_ups_.find(declaration_guid);
  if (f == follow_ups_.end()) return;
  const FollowUp& up = f->second;
  // A cancellation comes within hours of the release; a return 2 to 20 days later (inside the
  // 30-day window of 海关总署公告2020年第45号).
  const int64_t at = up.cancel ? now_ms + 600'000 + static_cast<int64_t>(rng_() % (4 * 3'600'000LL))
                               : now_ms + (2 + static_cast<int64_t>(rng_() % 19)) * kMillisPerDay;
  if (up.cancel) {
    Push(at, up.spec.agent_code, MakeCancel(up.spec, invt_no, AppTime(at), "消费者取消订单"),
         "cancel");
    ++counts_.cancels;
  } else {
    Push(at, up.spec.agent_code, MakeReturn(up.spec, invt_no, AppTime(at), "七天无理由退货"),
         "return");
    ++counts_.returns;
  }
  follow_ups_.erase(f);
}

StatusOr<uint64_t> SimulateInto(Platform& p, Simulator& sim,
                                const std::function<void(int64_t)>& progress) {
  constexpr size_t kGroup = 256;  // as the server's writer: one commit per group
  std::vector<Platform::Prepared> group;
  std::vector<int64_t> times;
  uint64_t refused = 0;
  auto commit = [&]() -> Status {
    if (group.empty()) return Status::Ok();
    auto answers = p.CommitPrepared(group);
    if (!answers.ok()) return answers.status();
    for (size_t i = 0; i < answers->size(); ++i) {
      for (const auto& r : (*answers)[i].receipts) {
        if (clearance::status::IsRefusal(r.status)) ++refused;
        sim.OnReceipt(r.type, r.status, r.answers_guid, std::string(storage::ReceiptInvtNo(r)),
                      times[i]);
      }
    }
    if (progress) progress(times.back());
    group.clear();
    times.clear();
    return Status::Ok();
  };
  SimEvent e;
  while (sim.Next(&e)) {
    auto prepared = p.Prepare(e.xml, "", e.at_ms);
    if (prepared.ok() && prepared->commit_first) {
      KJ_RETURN_IF_ERROR(commit());
      prepared = p.Prepare(e.xml, "", e.at_ms);
    }
    if (!prepared.ok()) return prepared.status();
    if (prepared->ready) continue;  // a repeat: answered already
    group.push_back(std::move(*prepared));
    times.push_back(e.at_ms);
    if (group.size() >= kGroup) KJ_RETURN_IF_ERROR(commit());
  }
  KJ_RETURN_IF_ERROR(commit());
  return refused;
}

}  // namespace kuajing::app
