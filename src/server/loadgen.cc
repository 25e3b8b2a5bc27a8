#include "server/loadgen.h"

#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>
#include <utility>

#include "app/commands.h"
#include "app/demo_batch.h"
#include "server/http_client.h"

namespace kuajing::server {

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kUsage =
    R"(usage: kuajing loadgen --url http://HOST:PORT --keys FILE [--clearances N] [--batch B]
                        [--connections C] [--rate R] [--first K] [--seed S] [--minimal]
  Sends N generated clearances (default 10000), B documents per message (default 100), on C
  keep-alive connections (default 2); each batch's four messages (inventory lists, orders,
  payments, waybills, each from its own enterprise's key; FILE: lines "enterprise CODE KEY", as
  serve --demo-keys writes) go in an order drawn from seed S (default 1), so the documents of a
  clearance arrive in every order. The messages are made before the clock starts.
  --rate R paces to R clearances per second in all (default: flat out); latencies are then counted
  from when each message was due, so a server that falls behind is not flattered. Prints a
  progress line each second and, at the end, throughput, latency percentiles and errors by status.
  --minimal sends `Prefer: return=minimal`: the answers carry each receipt's type, status and id,
  and the XML of refusals only (the rest is in the feed), as a sender that reads the feed would ask.
)";

struct Sample {
  double message_ms;   // one POST (from when it was due, if paced) to its answer
  bool last_document;  // the last of the batch's four: its answer holds the decisions
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
       first = num("--first", 1'000'000, 0, 1'000'000'000'000),
       seed = num("--seed", 1, 0, UINT32_MAX);
  if (!a.error.empty() || !a.opts.count("--url") || !a.opts.count("--keys") || !clearances ||
      !batch || !connections || !rate || !first || !seed) {
    std::cerr << (a.error.empty() ? "" : a.error + "\n") << kUsage;
    return 2;
  }
  const bool minimal = a.opts.count("--minimal") != 0;
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
  // Made before the clock starts (about 9 KB per clearance), so that what is measured is the
  // server, not this generator; each batch's four messages in a seeded order.
  struct Send {
    std::string body;
    const std::string* key;
  };
  std::vector<std::array<Send, 4>> plan(batches);
  {
    std::mt19937 rng(static_cast<uint32_t>(*seed));
    for (uint64_t b = 0; b < batches; ++b) {
      const uint64_t n = std::min<uint64_t>(*batch, *clearances - b * *batch);
      app::BatchMessages m = app::MakeBatch(app::GeneratedClearances(*first + b * *batch, n));
      plan[b] = {Send{std::move(m.inventories), &keys[shape.agent_code]},
                 Send{std::move(m.orders), &keys[shape.ebp_code]},
                 Send{std::move(m.payments), &keys[shape.pay_code]},
                 Send{std::move(m.waybills), &keys[shape.logistics_code]}};
      std::shuffle(plan[b].begin(), plan[b].end(), rng);
    }
  }
  std::atomic<uint64_t> next_batch{0}, done_clearances{0}, errors{0}, answer_bytes{0};
  std::mutex samples_mu;
  std::vector<Sample> samples;
  std::map<int, uint64_t> statuses;  // HTTP status -> answers (errors only); 0: no answer
  // This process's CPU in the timed window: it runs on the server's cores, so its share is part
  // of what a run measures (bench/README.md).
  const auto cpu = [] {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    const auto us = [](const timeval& t) {
      return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_usec);
    };
    return std::pair<double, double>{us(u.ru_utime), us(u.ru_stime)};
  };
  const auto cpu_before = cpu();
  const auto start = Clock::now();

  auto worker = [&] {
    try {
      MessageClient client(host, port);
      client.PreferMinimal(minimal);
      std::vector<Sample> local;
      std::map<int, uint64_t> local_statuses;
      uint64_t bytes = 0;  // of the answers' bodies
      for (uint64_t b; (b = next_batch++) < batches;) {
        const uint64_t n = std::min<uint64_t>(*batch, *clearances - b * *batch);
        Clock::time_point due = Clock::now();
        if (*rate > 0) {  // pace: batch b is due at (b * batch) / rate seconds
          due = start + std::chrono::microseconds(b * *batch * 1'000'000 / *rate);
          std::this_thread::sleep_until(due);
        }
        for (size_t i = 0; i < 4; ++i) {
          // Paced, the first message is due at `due` and each next one when the previous is
          // answered; latency counts from then (no coordinated omission).
          const auto t0 = i == 0 && *rate > 0 ? due : Clock::now();
          // The body is handed over, not copied (sent, it is not needed again).
          const auto& res = client.Post(*plan[b][i].key, std::move(plan[b][i].body));
          const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
          if (res.result_int() != 200) {
            ++errors;
            ++local_statuses[static_cast<int>(res.result_int())];
          }
          local.push_back({ms, i == 3});
          bytes += res.body().size();
        }
        done_clearances += n;
      }
      answer_bytes += bytes;
      std::lock_guard<std::mutex> lock(samples_mu);
      samples.insert(samples.end(), local.begin(), local.end());
      for (const auto& [code, count] : local_statuses) statuses[code] += count;
    } catch (const std::exception& e) {
      ++errors;
      std::lock_guard<std::mutex> lock(samples_mu);
      ++statuses[0];
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
  const auto cpu_after = cpu();
  finished = true;
  progress.join();
  std::string by_status;
  for (const auto& [code, count] : statuses) {
    by_status += (by_status.empty() ? " (" : ", ") +
                 (code == 0 ? std::string("connection failed") : "HTTP " + std::to_string(code)) +
                 ": " + std::to_string(count);
  }
  if (!by_status.empty()) by_status += ")";
  std::vector<double> all, last;
  for (const Sample& s : samples) {
    all.push_back(s.message_ms);
    if (s.last_document) last.push_back(s.message_ms);
  }
  const double per = static_cast<double>(std::max<uint64_t>(done_clearances, 1));
  std::printf(
      "loadgen: %llu clearances (%llu documents) in %.2f s = %.0f clearances/s, %.0f documents/s; "
      "%llu documents per message, %llu connections%s\n"
      "  message latency ms: p50 %.2f  p99 %.2f  max %.2f\n"
      "  decision latency ms (last document's POST to its answer holding the decisions): p50 %.2f  "
      "p99 %.2f\n"
      "  errors: %llu%s\n"
      "  this load generator, per clearance: CPU user %.1f µs, system %.1f µs; answers %.0f "
      "bytes\n",
      static_cast<unsigned long long>(done_clearances.load()),
      static_cast<unsigned long long>(done_clearances * 4), seconds,
      static_cast<double>(done_clearances) / seconds,
      static_cast<double>(done_clearances * 4) / seconds, static_cast<unsigned long long>(*batch),
      static_cast<unsigned long long>(*connections),
      *rate ? (", paced at " + std::to_string(*rate) + " clearances/s").c_str() : "",
      Percentile(all, 0.5), Percentile(all, 0.99), Percentile(all, 1.0), Percentile(last, 0.5),
      Percentile(last, 0.99), static_cast<unsigned long long>(errors.load()), by_status.c_str(),
      (cpu_after.first - cpu_before.first) / per, (cpu_after.second - cpu_before.second) / per,
      static_cast<double>(answer_bytes.load()) / per);
  return errors == 0 ? 0 : 1;
}

}  // namespace kuajing::server
