// `kuajing simulate`: drives app::Simulator into a data folder (in process, on the simulated
// clock), into a running server over HTTP (live, on the server's clock), or into message files.
#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>
#include <thread>

#include "app/commands.h"
#include "app/simulate.h"
#include "common/civil_time.h"
#include "server/http_client.h"
#include "server/loadgen.h"
#include "storage/store.h"

namespace kuajing::server {

namespace {

namespace json = boost::json;
using SteadyClock = std::chrono::steady_clock;

constexpr const char* kUsage =
    R"(usage: kuajing simulate (--data DIR | --url http://HOST:PORT --keys FILE | --out DIR)
                        [--preset day|hengyang-year|double11] [--scale S] [--days N] [--imports N]
                        [--exports N] [--date yyyyMMdd] [--seed N] [--rate R]
  Realistic, reproducible traffic of a zone (docs/SIMULATE.md): imports and exports with their
  documents in mixed order, a small share of format errors, mismatches and over-limit orders, and
  cancellations and returns of released lists. The same seed gives the same traffic.
  --data DIR   in process, each message at its simulated time (the days end today, or start at
               --date): a year of statistics in minutes; then `kuajing serve --data DIR`
  --url, --keys  to a running server (keys as `serve --demo-keys` writes them), paced at --rate
               messages per second (default 100; 0 = flat out), on the server's clock: a live
               dashboard
  --out DIR    message files in time order (no cancellations or returns: they need receipts)
  --preset day (default; 2,000 imports and 300 exports a day), hengyang-year (the seed
               article's 2021 figures over 365 days) or double11 (a day of imports at the
               national peak, 85,000 lists a minute), times --scale (default 1); --days,
               --imports, --exports (per day) override.
)";

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Progress {
  SteadyClock::time_point start = SteadyClock::now(), last = start;
  void Tick(const app::Simulator& sim, const std::string& extra, bool force = false) {
    const auto now = SteadyClock::now();
    if (!force && now - last < std::chrono::seconds(1)) return;
    last = now;
    const auto& c = sim.counts();
    const double s = std::chrono::duration<double>(now - start).count();
    std::cerr << "simulate: " << c.messages << " messages sent in " << static_cast<int64_t>(s)
              << " s"
              << (s > 0 ? ", " + std::to_string(static_cast<int64_t>(c.messages / s)) + "/s" : "")
              << "; so far generated " << c.imports << " import and " << c.exports
              << " export clearances, " << c.cancels << " cancellations, " << c.returns
              << " returns" << extra << "\n";
  }
};

int InProcess(const app::Args& a, app::Simulator& sim) {
  auto opts = app::OptionsFrom(a, a.opts.at("--data"));
  if (!opts.ok()) {
    std::cerr << opts.status().message() << "\n";
    return 2;
  }
  auto platform = app::Platform::Open(*opts);
  if (!platform.ok()) {
    std::cerr << "cannot open the platform: " << platform.status().ToString() << "\n";
    return 1;
  }
  Progress progress;
  auto refused = app::SimulateInto(**platform, sim, [&](int64_t at) {
    progress.Tick(sim, ", simulated time " + FormatAppTime(at));
  });
  if (!refused.ok()) {
    std::cerr << "simulate: " << refused.status().ToString() << "\n";
    return 1;
  }
  progress.Tick(sim, ", " + std::to_string(*refused) + " refusals", true);
  // The next start reads it instead of every stored list (app/snapshot.h).
  const Status saved = (*platform)->SaveSnapshot();
  if (!saved.ok()) std::cerr << "no snapshot written: " << saved.ToString() << "\n";
  return 0;
}

int OverHttp(const app::Args& a, app::Simulator& sim) {
  const std::string url = a.opts.at("--url");
  std::smatch m;
  static const std::regex kUrl(R"(http://([^:/]+):(\d+)/?)");
  if (!std::regex_match(url, m, kUrl)) {
    std::cerr << "--url must be http://HOST:PORT\n";
    return 2;
  }
  const std::string host = m[1], port = m[2];
  std::map<std::string, std::string> keys;
  std::ifstream in(a.opts.at("--keys"));
  for (std::string line; std::getline(in, line);) {
    std::istringstream ls(line);
    std::string role, code, key;
    if (ls >> role >> code >> key && role == "enterprise") keys[code] = key;
  }
  for (const std::string& code : app::Simulator::Senders()) {
    if (!keys.count(code)) {
      std::cerr << "no key for enterprise " << code << " in " << a.opts.at("--keys")
                << " (start the server with --demo-keys)\n";
      return 2;
    }
  }
  double rate = 100;
  if (a.opts.count("--rate")) {
    try {
      rate = std::stod(a.opts.at("--rate"));
    } catch (const std::exception&) {
      rate = -1;
    }
    if (rate < 0 || rate > 1e6) {
      std::cerr << "--rate is messages per second, 0 for flat out\n";
      return 2;
    }
  }
  Progress progress;
  uint64_t errors = 0, sent = 0;
  try {
    MessageClient client(host, port);
    // Receipts without their XML but refusals' (docs/API.md, "Answers"): the follow-ups need
    // only each release's invtNo, which brief receipts carry.
    client.PreferMinimal(true);
    app::SimEvent e;
    while (sim.Next(&e)) {
      if (rate > 0) {
        std::this_thread::sleep_until(
            progress.start + std::chrono::microseconds(static_cast<int64_t>(sent * 1e6 / rate)));
      }
      const auto& res = client.Post(keys[e.sender], std::move(e.xml));
      ++sent;
      if (res.result_int() == 200 || res.result_int() == 400) {
        json::error_code ec;
        json::value v = json::parse(res.body(), ec);
        if (!ec && v.is_object() && v.as_object().contains("receipts")) {
          for (const auto& r : v.at("receipts").as_array()) {
            const auto& o = r.as_object();
            auto str = [&](const char* k) {
              return o.contains(k) && o.at(k).is_string() ? std::string(o.at(k).as_string())
                                                          : std::string();
            };
            std::string invt_no = str("invtNo");
            if (invt_no.empty()) invt_no = storage::ReceiptXmlInvtNo(str("xml"));
            sim.OnReceipt(str("type"), str("status"), str("answers"), invt_no, e.at_ms);
          }
        }
      }
      if (res.result_int() != 200 && e.kind != "malformed") ++errors;
      progress.Tick(sim, ", errors " + std::to_string(errors));
    }
  } catch (const std::exception& ex) {
    std::cerr << "simulate: " << ex.what() << "\n";
    return 1;
  }
  progress.Tick(sim, ", errors " + std::to_string(errors), true);
  return errors == 0 ? 0 : 1;
}

int ToFiles(const app::Args& a, app::Simulator& sim) {
  namespace fs = std::filesystem;
  const fs::path out = a.opts.at("--out");
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) {
    std::cerr << "cannot make " << out << ": " << ec.message() << "\n";
    return 1;
  }
  Progress progress;
  app::SimEvent e;
  for (uint64_t n = 0; sim.Next(&e); ++n) {
    char name[64];
    std::snprintf(name, sizeof name, "%08llu_%s_%s.xml", static_cast<unsigned long long>(n),
                  FormatAppTime(e.at_ms).c_str(), e.kind.c_str());
    std::ofstream f(out / name, std::ios::binary);
    f << e.xml;
    if (!f) {
      std::cerr << "cannot write " << (out / name) << "\n";
      return 1;
    }
    progress.Tick(sim, "");
  }
  progress.Tick(sim, "", true);
  return 0;
}

}  // namespace

int RunSimulate(const std::vector<std::string>& args) {
  app::Args a = app::ParseArgs(args, 2);
  const int sinks = static_cast<int>(a.opts.count("--data")) +
                    static_cast<int>(a.opts.count("--url")) +
                    static_cast<int>(a.opts.count("--out"));
  if (!a.error.empty() || sinks != 1 || (a.opts.count("--url") && !a.opts.count("--keys"))) {
    std::cerr << (a.error.empty() ? "" : a.error + "\n") << kUsage;
    return 2;
  }
  app::SimulationOptions o;
  try {
    const double scale = a.opts.count("--scale") ? std::stod(a.opts.at("--scale")) : 1.0;
    const std::string preset = a.opts.count("--preset") ? a.opts.at("--preset") : "day";
    if (!app::PresetOptions(preset, scale, &o)) {
      std::cerr << "--preset is day, hengyang-year or double11; --scale is in (0, 10]\n";
      return 2;
    }
    auto bounded = [&](const char* name, double lo, double hi, double* out) {
      if (!a.opts.count(name)) return true;
      const double v = std::stod(a.opts.at(name));
      if (v < lo || v > hi) return false;
      *out = v;
      return true;
    };
    double days = o.days, seed = 1;
    if (!bounded("--days", 1, 3660, &days) ||
        !bounded("--imports", 0, 10'000'000, &o.imports_per_day) ||
        !bounded("--exports", 0, 10'000'000, &o.exports_per_day) ||
        !bounded("--seed", 0, 1e15, &seed)) {
      std::cerr << "--days 1..3660, --imports and --exports 0..10,000,000 a day, --seed >= 0\n";
      return 2;
    }
    o.days = static_cast<int>(days);
    o.seed = static_cast<uint64_t>(seed);
  } catch (const std::exception&) {
    std::cerr << "a number option is not a number\n" << kUsage;
    return 2;
  }
  // The days end today (CST) unless --date gives the first.
  if (a.opts.count("--date")) {
    auto d = ParseDate8(a.opts.at("--date"));
    if (!d) {
      std::cerr << "--date must be yyyyMMdd\n";
      return 2;
    }
    o.first_day_ms = *d;
  } else {
    o.first_day_ms = (CstDay(NowMs()) - o.days + 1) * kMillisPerDay - kCstOffsetMillis;
  }
  app::Simulator sim(o);
  if (a.opts.count("--data")) return InProcess(a, sim);
  if (a.opts.count("--url")) return OverHttp(a, sim);
  return ToFiles(a, sim);
}

}  // namespace kuajing::server
