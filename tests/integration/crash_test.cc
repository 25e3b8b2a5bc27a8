// Durability: `kuajing ingest`, then `kuajing serve` under four HTTP clients, is killed with
// SIGKILL in the middle of a stream, several times, on one data folder. After each kill, every
// message it acknowledged (printed after the commit) is in the store, the quota ledger agrees with
// the engine, and finishing the stream yields exactly the quota each buyer should have: nothing
// acknowledged is lost, nothing counted twice.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include "app/demo_batch.h"
#include "app/platform.h"
#include "common/civil_time.h"
#include "server/http_client.h"
#include "test_util.h"

extern char** environ;

namespace kuajing {
namespace {

namespace fs = std::filesystem;

using testing::ReadFile;

// Starts KJ_BINARY with `args` (args[0] is the binary), its standard output to `log` and its
// errors discarded; posix_spawn's result.
int Spawn(std::vector<std::string> args, const fs::path& log, pid_t* pid) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  const int rc = posix_spawn(pid, KJ_BINARY, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return rc;
}

// Runs `kuajing ingest` on the files and kills it after `delay`. Returns the files it reported.
std::vector<std::string> IngestAndKill(const fs::path& data, const std::vector<std::string>& files,
                                       std::chrono::milliseconds delay) {
  fs::create_directories(data);
  fs::path log = data.parent_path() / "ingest.log";
  std::vector<std::string> args = {KJ_BINARY,     "ingest",         "--data",
                                   data.string(), "--reference",    KJ_SOURCE_DIR "/data/reference",
                                   "--now",       "20240611100000", "--quiet",
                                   "--ack"};
  for (const auto& f : files) args.push_back(f);
  pid_t pid = -1;
  const int rc = Spawn(args, log, &pid);
  if (rc != 0 || pid <= 0) {
    ADD_FAILURE() << "cannot start " << KJ_BINARY << ": " << rc;
    return {};
  }
  std::this_thread::sleep_for(delay);
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  std::vector<std::string> acked;
  std::istringstream in(ReadFile(log));
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("ack ", 0) == 0) acked.push_back(line.substr(4));
  }
  return acked;
}

// Clearance i of a crash test's 150: 50 buyers (3 clearances each), prices 100 + i; adds its
// dutiable price to `expected` (buyer -> total).
app::ClearanceMessages CrashClearance(const std::string& prefix, int i, uint64_t first_buyer,
                                      std::map<std::string, Decimal>* expected,
                                      app::ClearanceSpec* spec = nullptr) {
  app::ClearanceSpec s = app::DemoClearances()[0];
  s.order_no = prefix + std::to_string(i);
  s.logistics_no = "XN" + prefix + std::to_string(i);
  s.buyer_id = app::MakeResidentId(first_buyer + static_cast<uint64_t>(i % 50));
  s.items[0].price = Decimal::FromUnits(100 + i);
  (*expected)[s.buyer_id] += s.items[0].price;
  if (spec != nullptr) *spec = s;
  return app::MakeClearance(s);
}

TEST(Crash, KilledIngestLosesNothingAcknowledgedAndCountsNothingTwice) {
  const kuajing::testing::ScopedTempDir temp("kj-crash-");
  const fs::path& dir = temp.path();
  fs::path msgs = dir / "messages", data = dir / "data";
  fs::create_directories(msgs);
  // 150 clearances of 50 buyers (3 each): 600 message files in mixed document order.
  std::vector<std::string> files;
  std::map<std::string, std::string> guid_of_file;
  std::map<std::string, Decimal> expected;  // buyer -> dutiable total of 2024
  for (int i = 0; i < 150; ++i) {
    app::ClearanceMessages m = CrashClearance("CRASH", i, 1000, &expected);
    int k = 0;
    for (const std::string* xml : {&m.inventory, &m.order, &m.waybill, &m.payment}) {
      fs::path f = msgs / ("CRASH" + std::to_string(i) + "-" + std::to_string(k++) + ".xml");
      std::ofstream(f) << *xml;
      files.push_back(f.string());
      size_t g = xml->find("guid=\"");
      guid_of_file[f.string()] = xml->substr(g + 6, 36);
    }
  }
  app::PlatformOptions opts;
  opts.data_dir = data.string();
  opts.reference_dir = KJ_SOURCE_DIR "/data/reference";
  size_t total_acked = 0;
  for (int delay : {150, 300, 450}) {
    std::vector<std::string> acked = IngestAndKill(data, files, std::chrono::milliseconds(delay));
    total_acked += acked.size();
    auto p = app::Platform::Open(opts);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    for (const std::string& f : acked) {
      auto r = (*p)->store().ReceiptsOfMessage(guid_of_file[f]);
      ASSERT_TRUE(r.ok());
      EXPECT_TRUE(r->has_value()) << "acknowledged but lost: " << f;
    }
    for (const auto& [buyer, total] : expected) {
      auto ledger = (*p)->store().LedgerSum(buyer, 2024);
      ASSERT_TRUE(ledger.ok());
      EXPECT_EQ(*ledger, (*p)->Quota(buyer, 2024).used) << buyer;
      EXPECT_LE((*p)->Quota(buyer, 2024).used, total) << "counted twice: " << buyer;
    }
  }
  EXPECT_GT(total_acked, 0u) << "the kills came before any work; the test proved nothing";
  // Finish the stream (resending everything, as a client would after a crash).
  auto p = app::Platform::Open(opts);
  ASSERT_TRUE(p.ok());
  int repeated = 0;
  for (const std::string& f : files) {
    auto a = (*p)->Submit(ReadFile(f), "", *ParseAppTime("20240611100000"));
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    repeated += a->repeated;
  }
  EXPECT_GT(repeated, 0);
  for (const auto& [buyer, total] : expected) {
    EXPECT_EQ((*p)->Quota(buyer, 2024).used, total) << buyer;
    EXPECT_EQ(*(*p)->store().LedgerSum(buyer, 2024), total) << buyer;
  }
  EXPECT_EQ((*p)->engine().counts().released, 150u);
}

// The server's promise, the same way: four keep-alive clients post 600 one-document messages (150
// clearances, documents in shuffled order) as fast as the server answers; the server is killed
// mid-stream. Every message answered 200 must be in the store after the restart, with the quota
// ledger equal to the engine's memory; then the rest is sent to a restarted server and every
// clearance completes exactly once.
TEST(Crash, KilledServerLosesNoAcknowledgedMessage) {
  const kuajing::testing::ScopedTempDir temp("kj-crash-srv-");
  const fs::path& dir = temp.path();
  fs::create_directories(dir);
  const fs::path data = dir / "data";
  struct Doc {
    std::string xml, guid, sender;
  };
  std::vector<Doc> docs;
  std::map<std::string, Decimal> expected;
  for (int i = 0; i < 150; ++i) {
    app::ClearanceSpec s;
    app::ClearanceMessages m = CrashClearance("SRVCRASH", i, 2000, &expected, &s);
    for (auto [xml, sender] :
         {std::pair{&m.inventory, s.agent_code}, std::pair{&m.order, s.ebp_code},
          std::pair{&m.payment, s.pay_code}, std::pair{&m.waybill, s.logistics_code}}) {
      docs.push_back({*xml, xml->substr(xml->find("guid=\"") + 6, 36), sender});
    }
  }
  std::shuffle(docs.begin(), docs.end(), std::mt19937(11));

  auto start_server = [&](pid_t* pid) -> std::string {
    const fs::path log = dir / "serve.log";
    std::vector<std::string> args = {
        KJ_BINARY,    "serve",       "--data",      data.string(),
        "--listen",   "127.0.0.1:0", "--reference", KJ_SOURCE_DIR "/data/reference",
        "--demo-keys"};
    if (Spawn(args, log, pid) != 0) return "";
    for (int i = 0; i < 200; ++i) {
      const std::string text = ReadFile(log);
      const size_t at = text.find("http://127.0.0.1:");
      if (at != std::string::npos && text.find(' ', at) != std::string::npos) {
        return text.substr(at + 17, text.find(' ', at) - at - 17);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return "";
  };
  auto keys = [&] {
    std::map<std::string, std::string> k;
    std::istringstream in(ReadFile(data / "keys.txt"));
    for (std::string line; std::getline(in, line);) {
      std::istringstream ls(line);
      std::string role, code, key;
      if (ls >> role >> code >> key && role == "enterprise") k[code] = key;
    }
    return k;
  };

  app::PlatformOptions opts;
  opts.data_dir = data.string();
  opts.reference_dir = KJ_SOURCE_DIR "/data/reference";
  size_t total_acked = 0, sent_from = 0;
  // Each run is killed once a quarter of the messages has been answered: mid-stream, with requests
  // in flight, whatever the speed of the build (sanitizers, a busy machine).
  for (int run = 0; run < 2; ++run) {
    pid_t pid = -1;
    const std::string port = start_server(&pid);
    ASSERT_FALSE(port.empty()) << ReadFile(dir / "serve.log");
    const auto key_of = keys();
    std::mutex mu;
    std::vector<std::string> acked;
    std::atomic<size_t> next{sent_from};
    std::vector<std::thread> clients;
    for (int c = 0; c < 4; ++c) {
      clients.emplace_back([&] {
        try {
          server::MessageClient client("127.0.0.1", port);
          for (size_t i; (i = next++) < docs.size();) {
            auto res = client.Post(key_of.at(docs[i].sender), docs[i].xml);
            if (res.result_int() == 200) {
              std::lock_guard<std::mutex> lock(mu);
              acked.push_back(docs[i].guid);
            }
          }
        } catch (const std::exception&) {  // the server was killed: stop
        }
      });
    }
    for (int waited = 0; waited < 60'000; waited += 5) {
      {
        std::lock_guard<std::mutex> lock(mu);
        if (acked.size() >= docs.size() / 4) break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    for (auto& t : clients) t.join();
    sent_from = std::min(next.load(), docs.size());
    total_acked += acked.size();
    auto p = app::Platform::Open(opts);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    for (const std::string& guid : acked) {
      auto r = (*p)->store().ReceiptsOfMessage(guid);
      ASSERT_TRUE(r.ok());
      EXPECT_TRUE(r->has_value()) << "answered 200 but lost: " << guid;
    }
    // The legal record: each message's bytes as sent (the server packs them on its I/O threads,
    // the journal replays them after the kill).
    std::map<std::string, std::string> sent, stored;
    for (const Doc& d : docs) sent[d.guid] = d.xml;
    ASSERT_TRUE((*p)->store()
                    .ForEachMessage(INT64_MAX,
                                    [&](const storage::MessageRow& m,
                                        const std::vector<storage::StoredReceipt>&) {
                                      stored[m.guid] = m.raw;
                                      return Status::Ok();
                                    })
                    .ok());
    for (const std::string& guid : acked) {
      ASSERT_EQ(stored.count(guid), 1u) << guid;
      EXPECT_EQ(stored[guid], sent[guid]) << guid;
    }
    for (const auto& [buyer, total] : expected) {
      const int year = CstYear(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
      auto ledger = (*p)->store().LedgerSum(buyer, year);
      ASSERT_TRUE(ledger.ok());
      EXPECT_EQ(*ledger, (*p)->Quota(buyer, year).used) << buyer;
      EXPECT_LE((*p)->Quota(buyer, year).used, total) << "counted twice: " << buyer;
    }
  }
  EXPECT_GT(total_acked, 0u) << "the kills came before any work; the test proved nothing";
  EXPECT_LT(total_acked, docs.size()) << "the kills came after the work; the test proved nothing";
  // Everything again (a client resends what was not answered, and may resend what was).
  auto p = app::Platform::Open(opts);
  ASSERT_TRUE(p.ok());
  // The server counts quota in the year it receives a list (its clock): so does this.
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const int year = CstYear(now);
  for (const Doc& d : docs) {
    auto a = (*p)->Submit(d.xml, d.sender, now);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
  }
  for (const auto& [buyer, total] : expected) {
    EXPECT_EQ((*p)->Quota(buyer, year).used, total) << buyer;
    EXPECT_EQ(*(*p)->store().LedgerSum(buyer, year), total) << buyer;
  }
  EXPECT_EQ((*p)->engine().counts().released, 150u);
}

}  // namespace
}  // namespace kuajing
