#include "server/loadgen.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "app/commands.h"
#include "app/demo_batch.h"
#include "server/http_client.h"

namespace kuajing::server {

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kUsage =
    R"(usage: kuajing loadgen --url http://HOST:PORT --keys FILE [--clearances N] [--batch B]
                        [--connections C] [--rate R] [--first K]
  Sends N generated clearances (default 10000), B documents per message (default 100), on C
  keep-alive connections (default 2); each batch goes inventories, orders, payments, waybills, each
  from its own enterprise's key (FILE: lines "enterprise CODE KEY", as serve --demo-keys writes).
  --rate R paces to R clearances per second in all (default: flat out). Prints a progress line
  each second and, at the end, throughput and latency percentiles.
)";

struct Sample {
  double message_ms;   // one POST to its answer
  bool last_document;  // the waybill message: its answer holds the decisions
};

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int RunLoadgen(const std::vector<std::string>& args) {
  app::Args a = app::ParseArgs(args, 2);
  auto num = [&](const char* name, uint64_t fallback, uint64_t lo,
                 uint64_t hi) -> std::optional<uint64_t> {
    if (!a.opts.count(name)) return fallback;
    auto n = app::WholeNumber(a.opts.at(name), hi);
    return n && *n >= lo ? n : std::nullopt;
  };
  auto clearances = num("--clearances", 10000, 1, 100'000'000), batch = num("--batch", 100, 1, 100),
       connections = num("--connections", 2, 1, 256), rate = num("--rate", 0, 0, 10'000'000),
       first = num("--first", 1'000'000, 0, 1'000'000'000'000);
  if (!a.error.empty() || !a.opts.count("--url") || !a.opts.count("--keys") || !clearances ||
      !batch || !connections || !rate || !first) {
    std::cerr << (a.error.empty() ? "" : a.error + "\n") << kUsage;
    return 2;
  }
  const std::string url = a.opts.at("--url");
  if (url.rfind("http://", 0) != 0 || url.find(':', 7) == std::string::npos) {
    std::cerr << "--url must be http://HOST:PORT\n";
    return 2;
  }
  const std::string host = url.substr(7, url.find(':', 7) - 7);
  const std::string port = url.substr(url.find(':', 7) + 1);
  std::map<std::string, std::string> keys;  // enterprise code -> key
  {
    std::ifstream in(a.opts.at("--keys"));
    for (std::string line; std::getline(in, line);) {
      std::istringstream ls(line);
      std::string role, code, key;
      if (ls >> role >> code >> key && role == "enterprise") keys[code] = key;
    }
  }
  const app::ClearanceSpec shape = app::GeneratedClearances(0, 1)[0];
  for (const std::string& code :
       {shape.agent_code, shape.ebp_code, shape.pay_code, shape.logistics_code}) {
    if (!keys.count(code)) {
      std::cerr << "no key for enterprise " << code << " in " << a.opts.at("--keys") << "\n";
      return 2;
    }
  }
  const uint64_t batches = (*clearances + *batch - 1) / *batch;
  std::atomic<uint64_t> next_batch{0}, done_clearances{0}, errors{0};
  std::mutex samples_mu;
  std::vector<Sample> samples;
  const auto start = Clock::now();

  auto worker = [&] {
    try {
      MessageClient client(host, port);
      std::vector<Sample> local;
      for (uint64_t b; (b = next_batch++) < batches;) {
        const uint64_t n = std::min<uint64_t>(*batch, *clearances - b * *batch);
        if (*rate > 0) {  // pace: batch b may start at (b * batch) / rate seconds
          std::this_thread::sleep_until(start +
                                        std::chrono::microseconds(b * *batch * 1'000'000 / *rate));
        }
        app::BatchMessages m = app::MakeBatch(app::GeneratedClearances(*first + b * *batch, n));
        const std::pair<const std::string*, const std::string*> sends[] = {
            {&m.inventories, &keys[shape.agent_code]},
            {&m.orders, &keys[shape.ebp_code]},
            {&m.payments, &keys[shape.pay_code]},
            {&m.waybills, &keys[shape.logistics_code]}};
        for (size_t i = 0; i < 4; ++i) {
          const auto t0 = Clock::now();
          const auto res = client.Post(*sends[i].second, *sends[i].first);
          const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
          if (res.result_int() != 200) ++errors;
          local.push_back({ms, i == 3});
        }
        done_clearances += n;
      }
      std::lock_guard<std::mutex> lock(samples_mu);
      samples.insert(samples.end(), local.begin(), local.end());
    } catch (const std::exception& e) {
      ++errors;
      std::cerr << "connection failed: " << e.what() << "\n";
    }
  };
  std::vector<std::thread> threads;
  for (uint64_t i = 0; i < *connections; ++i) threads.emplace_back(worker);
  std::atomic<bool> finished{false};
  std::thread progress([&] {
    uint64_t last = 0;
    while (!finished) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      const uint64_t now = done_clearances;
      std::cerr << "loadgen: " << now << " / " << *clearances << " clearances, " << (now - last)
                << "/s, errors " << errors << "\n";
      last = now;
    }
  });
  for (auto& t : threads) t.join();
  // Measured before the progress thread is joined: it sleeps in whole seconds.
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  finished = true;
  progress.join();
  std::vector<double> all, last;
  for (const Sample& s : samples) {
    all.push_back(s.message_ms);
    if (s.last_document) last.push_back(s.message_ms);
  }
  std::printf(
      "loadgen: %llu clearances (%llu documents) in %.2f s = %.0f clearances/s, %.0f documents/s; "
      "%llu documents per message, %llu connections%s\n"
      "  message latency ms: p50 %.2f  p99 %.2f  max %.2f\n"
      "  decision latency ms (last document's POST to its answer holding the decisions): p50 %.2f  "
      "p99 %.2f\n"
      "  errors: %llu\n",
      static_cast<unsigned long long>(done_clearances.load()),
      static_cast<unsigned long long>(done_clearances * 4), seconds,
      static_cast<double>(done_clearances) / seconds,
      static_cast<double>(done_clearances * 4) / seconds, static_cast<unsigned long long>(*batch),
      static_cast<unsigned long long>(*connections),
      *rate ? (", paced at " + std::to_string(*rate) + " clearances/s").c_str() : "",
      Percentile(all, 0.5), Percentile(all, 0.99), Percentile(all, 1.0), Percentile(last, 0.5),
      Percentile(last, 0.99), static_cast<unsigned long long>(errors.load()));
  return errors == 0 ? 0 : 1;
}

}  // namespace kuajing::server
