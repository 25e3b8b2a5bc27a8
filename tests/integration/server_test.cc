// The real server on a free port against a temporary data folder, driven as enterprises,
// officers, administrators and consumers would: over HTTP.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <filesystem>
#include <future>
#include <map>
#include <pugixml.hpp>
#include <set>
#include <thread>

#include "app/demo_batch.h"
#include "app/export_batch.h"
#include "app/platform.h"
#include "server/api.h"
#include "server/auth.h"
#include "server/http_server.h"
#include "storage/accounts.h"

namespace kuajing::server {
namespace {

namespace fs = std::filesystem;
namespace beast = boost::beast;
namespace json = boost::json;
using tcp = boost::asio::ip::tcp;

struct HttpResult {
  int status = 0;
  std::string body;
  http::fields fields;  // the answer's header fields
  json::value Json() const { return json::parse(body); }
};

// The server's answer to the request just written on `stream`.
HttpResult ReadAnswer(beast::tcp_stream& stream) {
  beast::error_code ec;
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 << 20);
  http::read(stream, buffer, parser, ec);
  if (ec) return {0, ec.message()};
  return {static_cast<int>(parser.get().result_int()), parser.get().body(),
          static_cast<const http::fields&>(parser.get())};
}

// One request on a fresh connection.
HttpResult Call(uint16_t port, http::verb verb, const std::string& target,
                const std::string& key = "", const std::string& body = "",
                const std::string& extra_header = "",
                const std::vector<std::pair<http::field, std::string>>& fields = {}) {
  boost::asio::io_context ioc;
  tcp::resolver resolver(ioc);
  beast::tcp_stream stream(ioc);
  stream.connect(resolver.resolve("127.0.0.1", std::to_string(port)));
  http::request<http::string_body> req{verb, target, 11};
  req.set(http::field::host, "127.0.0.1");
  if (!key.empty()) req.set(http::field::authorization, "Bearer " + key);
  if (!extra_header.empty()) req.set("X-Extra", extra_header);
  for (const auto& [name, value] : fields) req.insert(name, value);
  req.body() = body;
  req.prepare_payload();
  beast::error_code ec;
  http::write(stream, req, ec);  // a server refusing a large body may close before it is all sent
  return ReadAnswer(stream);
}

// A platform, its accounts, the API and the server, in one data folder that outlives them.
class Zone {
 public:
  explicit Zone(const fs::path& dir) {
    app::PlatformOptions o;
    o.data_dir = dir.string();
    o.reference_dir = KJ_SOURCE_DIR "/data/reference";
    platform_ = std::move(*app::Platform::Open(o));
    accounts_ = std::move(*storage::OpenSqliteAccounts(dir.string()));
    EXPECT_TRUE(ApplyReferenceChanges(*accounts_, platform_->mutable_reference()).ok());
    ApiOptions ao;
    ao.clock = [] { return int64_t{1718071200000}; };  // 2024-06-11 10:00 CST
    ao.quota_queries_per_minute = 5;
    ao.webhooks.base_backoff_ms = 30;  // quick retries for the test
    ao.webhooks.max_attempts = 3;
    ao.webhooks.timeout_ms = 1000;
    ao.webhooks.clock = [] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::steady_clock::now().time_since_epoch())
          .count();
    };
    api_ = std::make_unique<Api>(platform_.get(), accounts_.get(), ao);
    ServerLimits limits;
    limits.max_body_bytes = 1 << 20;
    server_ = std::make_unique<HttpServer>(api_.get(), limits, 2);
    EXPECT_TRUE(server_->Start("127.0.0.1", 0).ok());
  }
  ~Zone() {
    api_->ReleaseWaiters();
    server_->Stop();
  }
  uint16_t port() const { return server_->port(); }
  std::string Key(Role role, const std::string& enterprise = "") {
    auto k = MakeKey(role, enterprise, 1);
    EXPECT_TRUE(accounts_->CreateKey(k->stored, {0, 1, "test", "key.create", k->stored.id}).ok());
    return k->token;
  }

 private:
  std::unique_ptr<app::Platform> platform_;
  std::unique_ptr<storage::AccountStore> accounts_;
  std::unique_ptr<Api> api_;
  std::unique_ptr<HttpServer> server_;
};

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("kj-server-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    zone_ = std::make_unique<Zone>(dir_);
  }
  void TearDown() override {
    zone_.reset();
    fs::remove_all(dir_);
  }
  HttpResult Post(const std::string& key, const std::string& xml) {
    return Call(zone_->port(), http::verb::post, "/api/v1/messages", key, xml);
  }
  fs::path dir_;
  std::unique_ptr<Zone> zone_;
};

std::vector<std::pair<std::string, std::string>> Statuses(const json::value& v) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& r : v.at("receipts").as_array()) {
    out.emplace_back(json::value_to<std::string>(r.at("type")),
                     json::value_to<std::string>(r.at("status")));
  }
  return out;
}

TEST_F(ServerTest, ClearsOverHttpWithLongPollAndIsolatesEnterprises) {
  const std::string agent = zone_->Key(Role::kEnterprise, "4304963001");
  const std::string platform = zone_->Key(Role::kEnterprise, "4304961001");
  const std::string pay = zone_->Key(Role::kEnterprise, "312226T001");
  const std::string logistics = zone_->Key(Role::kEnterprise, "4304964001");
  const std::string stranger = zone_->Key(Role::kEnterprise, "4304962002");
  app::ClearanceMessages m = app::MakeClearance(app::DemoClearances()[0]);

  HttpResult r = Post(agent, m.inventory);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Statuses(r.Json()),
            (std::vector<std::pair<std::string, std::string>>{{"CEB622", "2"}}));
  // The answer's receipt was left packed by the writer and written out on the way back.
  const std::string answered =
      json::value_to<std::string>(r.Json().at("receipts").as_array().at(0).at("xml"));
  EXPECT_EQ(answered.rfind("<?xml", 0), 0u) << answered;
  const json::value answered_id = r.Json().at("receipts").as_array().at(0).at("id");
  EXPECT_GT(answered_id.as_int64(), 0);
  EXPECT_NE(answered.find("<ceb:returnStatus>2</ceb:returnStatus>"), std::string::npos) << answered;

  // The agent waits for its decision while the other documents arrive.
  auto waiting = std::async(std::launch::async, [&] {
    return Call(zone_->port(), http::verb::get, "/api/v1/receipts?after=1&wait=20", agent);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(Post(platform, m.order).status, 200);
  EXPECT_EQ(Post(pay, m.payment).status, 200);
  r = Post(logistics, m.waybill);
  ASSERT_EQ(r.status, 200) << r.body;
  HttpResult feed = waiting.get();
  ASSERT_EQ(feed.status, 200) << feed.body;
  auto got = Statuses(feed.Json());
  EXPECT_NE(std::find(got.begin(), got.end(), std::pair<std::string, std::string>{"CEB622", "800"}),
            got.end())
      << feed.body;
  // The payment company is named in the order, not in the list: it sees the order's and its own
  // receipts, not the list's.
  HttpResult pay_feed = Call(zone_->port(), http::verb::get, "/api/v1/receipts?after=0", pay);
  EXPECT_EQ(Statuses(pay_feed.Json()), (std::vector<std::pair<std::string, std::string>>{
                                           {"CEB312", "120"}, {"CEB412", "120"}}));
  // Another enterprise sees nothing: an empty feed, and 404 for the list's guid.
  EXPECT_TRUE(Call(zone_->port(), http::verb::get, "/api/v1/receipts", stranger)
                  .Json()
                  .at("receipts")
                  .as_array()
                  .empty());
  EXPECT_EQ(
      Call(zone_->port(), http::verb::get, "/api/v1/receipts/" + m.inventory_guid, stranger).status,
      404);
  HttpResult all =
      Call(zone_->port(), http::verb::get, "/api/v1/receipts/" + m.inventory_guid, agent);
  EXPECT_EQ(all.status, 200);
  EXPECT_EQ(all.Json().at("receipts").as_array().size(), 5u);  // 2, 120, 399, 800, 816
  // The store shows the answered receipt with the same bytes and number (the answer held the
  // store's own receipts: Answer::stored).
  EXPECT_EQ(json::value_to<std::string>(all.Json().at("receipts").as_array().at(0).at("xml")),
            answered);
  EXPECT_EQ(all.Json().at("receipts").as_array().at(0).at("id"), answered_id);
  // The same, by business key: the list by its order number, the order by its.
  const app::ClearanceSpec spec = app::DemoClearances()[0];
  HttpResult by_key = Call(
      zone_->port(), http::verb::get,
      "/api/v1/documents/inventory?ebpCode=" + spec.ebp_code + "&orderNo=" + spec.order_no, agent);
  EXPECT_EQ(by_key.status, 200) << by_key.body;
  EXPECT_EQ(by_key.Json().at("receipts").as_array().size(), 5u);
  EXPECT_EQ(Call(zone_->port(), http::verb::get,
                 "/api/v1/documents/order?ebpCode=" + spec.ebp_code + "&orderNo=" + spec.order_no,
                 stranger)
                .status,
            404);
  EXPECT_EQ(Call(zone_->port(), http::verb::get, "/api/v1/documents/order?orderNo=x", agent).status,
            400);
  // A resend after a lost response returns the original receipts, never "duplicate".
  r = Post(agent, m.inventory);
  EXPECT_TRUE(r.Json().at("repeated").as_bool());
  // Someone else's message guid is refused, and leaks nothing.
  r = Post(stranger, m.inventory);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(Statuses(r.Json()),
            (std::vector<std::pair<std::string, std::string>>{{"CEB900", "-2"}}));
  // Every receipt an intake answer carried is counted by type and status, three of one kind in
  // the answer to three orders in one message.
  EXPECT_EQ(Post(platform, app::MakeBatch(app::GeneratedClearances(800, 3)).orders).status, 200);
  const std::string metrics = Call(zone_->port(), http::verb::get, "/metrics").body;
  for (const char* line : {"kuajing_receipts_total{type=\"CEB312\",status=\"120\"} 4\n",
                           "kuajing_receipts_total{type=\"CEB900\",status=\"-2\"} 1\n"}) {
    EXPECT_NE(metrics.find(line), std::string::npos) << line << metrics;
  }
  // Where an answer's time goes: every answer above waited for a flush of the journal; the
  // other histograms are there from the start, empty or not.
  const auto count_of = [&](const std::string& name) -> long long {
    const size_t at = metrics.find("\n" + name + "_count ");
    if (at == std::string::npos) return -1;
    return std::stoll(metrics.substr(at + name.size() + 8));
  };
  EXPECT_GE(count_of("kuajing_intake_seconds"), 5) << metrics;
  EXPECT_GE(count_of("kuajing_journal_sync_seconds"), 1) << metrics;
  EXPECT_LE(count_of("kuajing_journal_sync_seconds"), count_of("kuajing_intake_seconds"));
  for (const char* name : {"kuajing_journal_rollover_seconds", "kuajing_journal_room_wait_seconds",
                           "kuajing_projection_seconds", "kuajing_sqlite_checkpoint_seconds"}) {
    EXPECT_GE(count_of(name), 0) << name << "\n" << metrics;
  }
  EXPECT_NE(metrics.find("\nkuajing_journal_sync_seconds_bucket{le=\"0.0001\"} "),
            std::string::npos);
}

// A sender that reads its receipts from the feed asks for `Prefer: return=minimal` (RFC 7240):
// the answers then say what became of each document, with the XML of refusals only; every receipt
// is in the feed, whole, under the id the answer gave.
TEST_F(ServerTest, MinimalAnswersLeaveTheReceiptsXmlToTheFeed) {
  const std::string agent = zone_->Key(Role::kEnterprise, "4304963001");
  const std::string platform = zone_->Key(Role::kEnterprise, "4304961001");
  const std::string pay = zone_->Key(Role::kEnterprise, "312226T001");
  const std::string logistics = zone_->Key(Role::kEnterprise, "4304964001");
  std::vector<app::ClearanceSpec> specs = app::GeneratedClearances(900, 3);
  specs[1].buyer_id = "430404199001011230";  // a wrong check digit: the order is refused
  const app::BatchMessages b = app::MakeBatch(specs);
  const auto minimal = [&](const std::string& key, const std::string& xml) {
    return Call(zone_->port(), http::verb::post, "/api/v1/messages", key, xml, "",
                {{http::field::prefer, "return=minimal"}});
  };
  std::map<int64_t, json::object> answered;  // id -> the receipt as an answer showed it
  for (const auto& [key, xml] :
       std::vector<std::pair<std::string, std::string>>{{agent, b.inventories},
                                                        {platform, b.orders},
                                                        {pay, b.payments},
                                                        {logistics, b.waybills}}) {
    HttpResult r = minimal(key, xml);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.fields[http::field::preference_applied], "return=minimal");
    const json::value answer = r.Json();
    for (const auto& v : answer.at("receipts").as_array()) {
      const json::object& o = v.as_object();
      EXPECT_TRUE(o.contains("type") && o.contains("status") && o.contains("answers")) << o;
      answered[o.at("id").as_int64()] = o;
    }
  }
  // The lists released (800) and their tax bills (816); the refused order, and the payment and
  // list refused with it (negative statuses): only the refusals came with their XML.
  std::set<std::string> kinds;
  size_t refusals = 0;
  for (const auto& [id, o] : answered) {
    const std::string status = json::value_to<std::string>(o.at("status"));
    kinds.insert(json::value_to<std::string>(o.at("type")) + "/" + status);
    const bool refusal = status.rfind('-', 0) == 0;
    refusals += refusal;
    EXPECT_EQ(o.contains("xml"), refusal) << o;
  }
  for (const char* kind : {"CEB622/800", "CEB816/1", "CEB312/120", "CEB412/120", "CEB512/120"}) {
    EXPECT_TRUE(kinds.count(kind)) << kind;
  }
  EXPECT_GE(refusals, 2u);
  EXPECT_TRUE(std::any_of(kinds.begin(), kinds.end(),
                          [](const std::string& k) { return k.rfind("CEB312/-", 0) == 0; }));
  // Every receipt answered is in the feeds, whole, under its id.
  std::set<int64_t> found;
  std::set<int64_t> released_numbers;  // ids of release receipts (in several enterprises' feeds)
  for (const std::string& key : {agent, platform, pay, logistics}) {
    HttpResult feed =
        Call(zone_->port(), http::verb::get, "/api/v1/receipts?after=0&limit=500", key);
    const json::value page = feed.Json();
    for (const auto& v : page.at("receipts").as_array()) {
      const auto it = answered.find(v.at("id").as_int64());
      if (it == answered.end()) continue;
      found.insert(it->first);
      EXPECT_EQ(v.at("type"), it->second.at("type"));
      EXPECT_EQ(v.at("status"), it->second.at("status"));
      const std::string xml = json::value_to<std::string>(v.at("xml"));
      const std::string status = json::value_to<std::string>(v.at("status"));
      EXPECT_NE(xml.find("<ceb:" + json::value_to<std::string>(v.at("type")) + "Message "),
                std::string::npos)
          << xml;
      EXPECT_TRUE(xml.find("<ceb:returnStatus>" + status + "<") != std::string::npos ||
                  xml.find("<ceb:status>" + status + "<") != std::string::npos)  // 816
          << xml;
      if (it->second.contains("xml")) {
        EXPECT_EQ(it->second.at("xml"), v.at("xml"));
      } else {
        // A brief receipt carries the list number its XML states, and none where it has none.
        const size_t at = xml.find("<ceb:invtNo>");
        if (at == std::string::npos) {
          EXPECT_FALSE(it->second.contains("invtNo")) << it->second;
        } else {
          const size_t from = at + 12;
          EXPECT_EQ(json::value_to<std::string>(it->second.at("invtNo")),
                    xml.substr(from, xml.find('<', from) - from));
          if (status == "800") released_numbers.insert(it->first);
        }
      }
    }
  }
  EXPECT_EQ(found.size(), answered.size());
  EXPECT_EQ(released_numbers.size(), 2u) << "the two lists released gave their invtNo";
  // A resend is answered from the store, whose receipts are XML: brief the same, invtNo included.
  HttpResult again = minimal(agent, b.inventories);
  ASSERT_EQ(again.status, 200) << again.body;
  const json::value repeated = again.Json();
  EXPECT_TRUE(repeated.at("repeated").as_bool());
  for (const auto& v : repeated.at("receipts").as_array()) {
    const auto it = answered.find(v.at("id").as_int64());
    ASSERT_NE(it, answered.end()) << v;
    EXPECT_EQ(v.as_object(), it->second);
  }
  // Without the preference the answer is whole, and says nothing was applied.
  HttpResult whole = Post(agent, app::MakeBatch(app::GeneratedClearances(950, 1)).inventories);
  ASSERT_EQ(whole.status, 200) << whole.body;
  EXPECT_TRUE(whole.fields[http::field::preference_applied].empty());
  EXPECT_TRUE(whole.Json().at("receipts").as_array().at(0).as_object().contains("xml"));
}

TEST_F(ServerTest, TheSameMessageSentConcurrentlyCountsOnce) {
  // Concurrent requests share commits (group commit); the same message twice in one group is
  // committed once and answered as a repeat the second time.
  const std::string agent = zone_->Key(Role::kEnterprise, "4304963001");
  app::ClearanceMessages m = app::MakeClearance(app::DemoClearances()[0]);
  std::vector<std::future<HttpResult>> sends;
  for (int i = 0; i < 8; ++i) {
    sends.push_back(std::async(std::launch::async, [&] { return Post(agent, m.inventory); }));
  }
  int fresh = 0, repeated = 0;
  for (auto& f : sends) {
    HttpResult r = f.get();
    ASSERT_EQ(r.status, 200) << r.body;
    (r.Json().at("repeated").as_bool() ? repeated : fresh) += 1;
  }
  EXPECT_EQ(fresh, 1);
  EXPECT_EQ(repeated, 7);
  auto feed = Call(zone_->port(), http::verb::get, "/api/v1/receipts", agent).Json();
  EXPECT_EQ(feed.at("receipts").as_array().size(), 1u);  // one CEB622 2, not eight
}

TEST_F(ServerTest, TwoMessagesSentConcurrentlyCountOnceEach) {
  // Interleaved repeats of two messages in rounds of 16 concurrent requests: groups that commit
  // early for a repeat (`commit_first`) and then meet a repeat of the other message, whose first
  // was in what they committed. The writer asks the store once per group which messages it has
  // (Store::MessagesStored); what that answer said is void after such a commit. Each message is
  // processed once: one fresh answer, every other one a repeat.
  const std::string agent = zone_->Key(Role::kEnterprise, "4304963001");
  const auto specs = app::GeneratedClearances(700, 12);
  for (int round = 0; round < 6; ++round) {
    const std::string a = app::MakeClearance(specs[2 * round]).inventory;
    const std::string b = app::MakeClearance(specs[2 * round + 1]).inventory;
    std::vector<std::future<HttpResult>> sends;
    for (int i = 0; i < 16; ++i) {
      const std::string& body = i % 2 == 0 ? a : b;
      sends.push_back(
          std::async(std::launch::async, [&, &body = body] { return Post(agent, body); }));
    }
    int fresh = 0, repeated = 0;
    for (auto& f : sends) {
      HttpResult r = f.get();
      ASSERT_EQ(r.status, 200) << r.body;
      (r.Json().at("repeated").as_bool() ? repeated : fresh) += 1;
    }
    EXPECT_EQ(fresh, 2) << "round " << round;
    EXPECT_EQ(repeated, 14) << "round " << round;
  }
}

// Writes `body` as a chunked request of `chunk` bytes a chunk, on a fresh connection, and reads
// the answer: the server's body reader is then handed the message in many small pieces.
HttpResult PostChunked(uint16_t port, const std::string& key, const std::string& body,
                       size_t chunk) {
  boost::asio::io_context ioc;
  tcp::resolver resolver(ioc);
  beast::tcp_stream stream(ioc);
  stream.connect(resolver.resolve("127.0.0.1", std::to_string(port)));
  std::string out = "POST /api/v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                    key + "\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (size_t at = 0; at < body.size(); at += chunk) {
    const std::string piece = body.substr(at, chunk);
    char size[20];
    std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
    out += size + piece + "\r\n";
  }
  out += "0\r\n\r\n";
  beast::error_code ec;
  boost::asio::write(stream.socket(), boost::asio::buffer(out), ec);
  return ReadAnswer(stream);
}

TEST_F(ServerTest, AMessageIsReadWholeHoweverItsBodyArrives) {
  // 100 orders (about 200 KB) in chunks of 1,000 bytes, and in one of 64 KiB: each is read
  // piece by piece into one body. A byte lost, repeated or out of place would break the XML or
  // a field, and the order would not be answered 120 (stored by customs).
  const std::string platform = zone_->Key(Role::kEnterprise, "4304961001");
  const auto chunked = [&](uint64_t first, size_t chunk) {
    const std::string orders = app::MakeBatch(app::GeneratedClearances(first, 100)).orders;
    EXPECT_GT(orders.size(), size_t{128} << 10);
    HttpResult r = PostChunked(zone_->port(), platform, orders, chunk);
    EXPECT_EQ(r.status, 200) << r.body.substr(0, 400);
    if (r.status != 200) return;
    const auto statuses = Statuses(r.Json());
    EXPECT_EQ(statuses.size(), 100u);
    for (const auto& [type, status] : statuses) EXPECT_EQ(type + " " + status, "CEB312 120");
  };
  chunked(1000, 1000);
  chunked(2000, 64 << 10);
  // Chunked bodies are held to the body limit too (1 MiB here), whatever the chunks.
  HttpResult big = PostChunked(zone_->port(), platform, std::string(2 << 20, 'x'), 60000);
  EXPECT_EQ(big.status, 413);
}

TEST_F(ServerTest, KeysRolesAndLimits) {
  const std::string admin = zone_->Key(Role::kAdmin);
  const std::string officer = zone_->Key(Role::kOfficer);
  EXPECT_EQ(Call(zone_->port(), http::verb::post, "/api/v1/messages", "", "<x/>").status, 401);
  EXPECT_EQ(Call(zone_->port(), http::verb::post, "/api/v1/messages", "kj_bad", "<x/>").status,
            401);
  EXPECT_EQ(Call(zone_->port(), http::verb::post, "/api/v1/messages", officer, "<x/>").status, 403);
  // An administrator makes and revokes an enterprise key; both are audited.
  HttpResult made = Call(zone_->port(), http::verb::post, "/api/v1/admin/keys", admin,
                         R"({"role":"enterprise","enterprise":"4304962001"})");
  ASSERT_EQ(made.status, 201) << made.body;
  const std::string key = json::value_to<std::string>(made.Json().at("key"));
  const std::string id = json::value_to<std::string>(made.Json().at("id"));
  EXPECT_EQ(Call(zone_->port(), http::verb::get, "/api/v1/receipts", key).status, 200);
  EXPECT_EQ(Call(zone_->port(), http::verb::post, "/api/v1/admin/keys", admin,
                 R"({"role":"enterprise","enterprise":"9999999999"})")
                .status,
            400);
  EXPECT_EQ(Call(zone_->port(), http::verb::delete_, "/api/v1/admin/keys/" + id, admin).status,
            200);
  EXPECT_EQ(Call(zone_->port(), http::verb::get, "/api/v1/receipts", key).status, 401);
  EXPECT_EQ(Call(zone_->port(), http::verb::post, "/api/v1/admin/keys", key, "{}").status, 401);
  auto audit = Call(zone_->port(), http::verb::get, "/api/v1/admin/audit", admin)
                   .Json()
                   .at("entries")
                   .as_array();
  ASSERT_GE(audit.size(), 2u);
  EXPECT_EQ(json::value_to<std::string>(audit.back().at("what")), "key.revoke");
  // A body over the limit gets 413 and a reason.
  HttpResult big =
      Call(zone_->port(), http::verb::post, "/api/v1/messages", key, std::string(2 << 20, 'x'));
  EXPECT_EQ(big.status, 413);
  EXPECT_NE(big.body.find("split the message"), std::string::npos);
  EXPECT_EQ(Call(zone_->port(), http::verb::get, "/nowhere", admin).status, 404);
  // Headers over 16 KiB: 431. Query limits: a feed page of at most 500, a wait of at most 60 s.
  EXPECT_EQ(
      Call(zone_->port(), http::verb::get, "/healthz", "", "", std::string(17 << 10, 'h')).status,
      431);
  EXPECT_EQ(
      Call(zone_->port(), http::verb::get, "/healthz", "", "", std::string(15 << 10, 'h')).status,
      200);
  const std::string ent = zone_->Key(Role::kEnterprise, "4304962001");
  EXPECT_EQ(Call(zone_->port(), http::verb::get, "/api/v1/receipts?limit=501", ent).status, 400);
  EXPECT_EQ(Call(zone_->port(), http::verb::get, "/api/v1/receipts?limit=500", ent).status, 200);
  EXPECT_EQ(Call(zone_->port(), http::verb::get, "/api/v1/receipts?wait=61", ent).status, 400);
  EXPECT_EQ(Call(zone_->port(), http::verb::get, "/healthz").status, 200);
  const std::string metrics = Call(zone_->port(), http::verb::get, "/metrics").body;
  EXPECT_NE(metrics.find("kuajing_http_responses_total"), std::string::npos);
  EXPECT_NE(metrics.find("\nkuajing_journal_unprojected_bytes "), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("\nkuajing_journal_unprojected_frames "), std::string::npos);
  EXPECT_NE(metrics.find("\nkuajing_clearances_in_store_only "), std::string::npos);
}

TEST_F(ServerTest, QuotaQueryNeedsTheNameAndIsRateLimited) {
  const std::string agent = zone_->Key(Role::kEnterprise, "4304963001");
  const std::string platform = zone_->Key(Role::kEnterprise, "4304961001");
  const std::string pay = zone_->Key(Role::kEnterprise, "312226T001");
  const std::string logistics = zone_->Key(Role::kEnterprise, "4304964001");
  app::ClearanceSpec s = app::DemoClearances()[0];
  app::ClearanceMessages m = app::MakeClearance(s);
  Post(platform, m.order);
  Post(pay, m.payment);
  Post(logistics, m.waybill);
  Post(agent, m.inventory);
  const std::string q = "/api/v1/quota?year=2024&id=" + s.buyer_id + "&name=";
  json::value right =
      Call(zone_->port(), http::verb::get, q + "%E6%9D%8E%E5%A8%9C").Json();  // 李娜
  EXPECT_EQ(json::value_to<std::string>(right.at("used")), "1000.00");
  EXPECT_EQ(json::value_to<std::string>(right.at("remaining")), "25000.00");
  // A wrong name gets exactly what a buyer with no purchases gets.
  json::value wrong = Call(zone_->port(), http::verb::get, q + "x").Json();
  EXPECT_EQ(json::value_to<std::string>(wrong.at("used")), "0.00");
  EXPECT_EQ(json::value_to<std::string>(wrong.at("remaining")), "26000.00");
  EXPECT_EQ(Call(zone_->port(), http::verb::get, "/api/v1/quota?id=123&name=x").status, 400);
  // Five a minute from one address (the test's setting): the sixth and later get 429.
  int limited = 0;
  for (int i = 0; i < 4; ++i)
    limited += Call(zone_->port(), http::verb::get, q + "x").status == 429;
  EXPECT_GE(limited, 1);
}

TEST_F(ServerTest, OfficerDecidesHeldListsAndStateSurvivesARestart) {
  const std::string officer = zone_->Key(Role::kOfficer);
  const std::string agent = zone_->Key(Role::kEnterprise, "4304963001");
  const std::string platform = zone_->Key(Role::kEnterprise, "4304961001");
  const std::string pay = zone_->Key(Role::kEnterprise, "312226T001");
  const std::string logistics = zone_->Key(Role::kEnterprise, "4304964001");
  app::ClearanceMessages m = app::MakeClearance(app::DemoClearances()[3]);  // the 6,000 CNY handbag
  Post(platform, m.order);
  Post(pay, m.payment);
  Post(agent, m.inventory);
  // Concurrent submissions: the waybill and a batch of other clearances from two threads.
  auto other = std::async(std::launch::async, [&] {
    app::BatchMessages b = app::MakeBatch(app::GeneratedClearances(500, 20));
    return Post(platform, b.orders).status;
  });
  EXPECT_EQ(Post(logistics, m.waybill).status, 200);
  EXPECT_EQ(other.get(), 200);
  const int64_t before =
      Call(zone_->port(), http::verb::get, "/api/v1/receipts?after=0&limit=500", agent)
          .Json()
          .at("next")
          .as_int64();

  // Restart the whole server on the same folder.
  zone_.reset();
  zone_ = std::make_unique<Zone>(dir_);
  HttpResult held = Call(zone_->port(), http::verb::get, "/api/v1/officer/held", officer);
  ASSERT_EQ(held.status, 200);
  auto list = held.Json().at("held").as_array();
  ASSERT_EQ(list.size(), 1u) << held.body;
  const std::string invt = json::value_to<std::string>(list[0].at("invtNo"));
  EXPECT_EQ(json::value_to<std::string>(list[0].at("status")), "300");
  EXPECT_EQ(Call(zone_->port(), http::verb::get, "/api/v1/officer/held", agent).status, 403);
  // The workbench's documents side by side: the four, as the standard's XML, as declared.
  HttpResult docs = Call(zone_->port(), http::verb::get, "/api/v1/officer/held/" + invt, officer);
  ASSERT_EQ(docs.status, 200) << docs.body;
  // Without the sender's transport part (not kept), but otherwise the standard's documents.
  const std::pair<const char*, const char*> roots[] = {{"inventory", "ceb:CEB621Message"},
                                                       {"order", "ceb:CEB311Message"},
                                                       {"payment", "ceb:CEB411Message"},
                                                       {"waybill", "ceb:CEB511Message"}};
  for (const auto& [kind, root] : roots) {
    const std::string xml = json::value_to<std::string>(docs.Json().at(kind));
    pugi::xml_document doc;
    ASSERT_TRUE(doc.load_string(xml.c_str())) << kind;
    EXPECT_STREQ(doc.document_element().name(), root);
    EXPECT_NE(xml.find(app::DemoClearances()[3].order_no), std::string::npos) << kind;
  }
  EXPECT_NE(json::value_to<std::string>(docs.Json().at("waybill"))
                .find(app::DemoClearances()[3].logistics_no),
            std::string::npos);
  EXPECT_EQ(Call(zone_->port(), http::verb::get, "/api/v1/officer/held/" + invt, agent).status,
            403);
  EXPECT_EQ(Call(zone_->port(), http::verb::get, "/api/v1/officer/held/49002024I999999999", officer)
                .status,
            404);
  // Who a key is: the pages use it.
  auto me = Call(zone_->port(), http::verb::get, "/api/v1/whoami", agent).Json();
  EXPECT_EQ(me.at("role"), "enterprise");
  EXPECT_EQ(me.at("enterprise"), "4304963001");
  EXPECT_EQ(me.at("name"), "衡阳综保区报关服务有限公司");
  EXPECT_EQ(Call(zone_->port(), http::verb::get, "/api/v1/whoami", officer).Json().at("role"),
            "officer");
  EXPECT_EQ(Call(zone_->port(), http::verb::get, "/api/v1/whoami").status, 401);
  EXPECT_EQ(Call(zone_->port(), http::verb::post, "/api/v1/officer/decisions", officer,
                 R"({"invtNo":")" + invt + R"(","action":"reject"})")
                .status,
            400);  // needs a reason
  HttpResult d = Call(zone_->port(), http::verb::post, "/api/v1/officer/decisions", officer,
                      R"({"invtNo":")" + invt + R"(","action":"release"})");
  ASSERT_EQ(d.status, 200) << d.body;
  // The agent's feed, resumed from where it was before the restart, holds the release once.
  auto after = Statuses(Call(zone_->port(), http::verb::get,
                             "/api/v1/receipts?after=" + std::to_string(before), agent)
                            .Json());
  EXPECT_EQ(after, (std::vector<std::pair<std::string, std::string>>{
                       {"CEB622", "399"}, {"CEB622", "800"}, {"CEB816", "1"}}));
  EXPECT_EQ(Call(zone_->port(), http::verb::post, "/api/v1/officer/decisions", officer,
                 R"({"invtNo":")" + invt + R"(","action":"release"})")
                .status,
            409);  // not held any more
}

TEST_F(ServerTest, RegistrationChangesAreAuditedAppliedAndKept) {
  const std::string admin = zone_->Key(Role::kAdmin);
  auto call = [&](http::verb v, const std::string& path, const std::string& body = "") {
    return Call(zone_->port(), v, path, admin, body);
  };
  EXPECT_EQ(call(http::verb::put, "/api/v1/admin/enterprises/4304963009",
                 R"({"name":"新报关行","roles":["agent","pilot"]})")
                .status,
            400);
  ASSERT_EQ(call(http::verb::put, "/api/v1/admin/enterprises/4304963009",
                 R"({"name":"新报关行","roles":["agent"]})")
                .status,
            200);
  ASSERT_EQ(call(http::verb::put, "/api/v1/admin/goods/85183000",
                 R"({"name":"耳机","vatRate":"0.13","consumptionTaxRate":"0","dutyRate":"0"})")
                .status,
            200);
  EXPECT_EQ(
      call(http::verb::put, "/api/v1/admin/goods/85183000", R"({"name":"耳机","vatRate":"1.3"})")
          .status,
      400);
  // The new agent can get a key at once and declare.
  EXPECT_EQ(call(http::verb::post, "/api/v1/admin/keys",
                 R"({"role":"enterprise","enterprise":"4304963009"})")
                .status,
            201);
  // Restart: the changes are still there; then remove the goods line.
  zone_.reset();
  zone_ = std::make_unique<Zone>(dir_);
  auto listed = call(http::verb::get, "/api/v1/admin/enterprises").body;
  EXPECT_NE(listed.find("4304963009"), std::string::npos);
  EXPECT_NE(call(http::verb::get, "/api/v1/admin/goods").body.find("85183000"), std::string::npos);
  EXPECT_EQ(call(http::verb::delete_, "/api/v1/admin/goods/85183000").status, 200);
  EXPECT_EQ(call(http::verb::get, "/api/v1/admin/goods").body.find("85183000"), std::string::npos);
  auto audit = call(http::verb::get, "/api/v1/admin/audit").Json().at("entries").as_array();
  std::vector<std::string> what;
  for (const auto& e : audit) what.push_back(json::value_to<std::string>(e.at("what")));
  EXPECT_NE(std::find(what.begin(), what.end(), "enterprise.put"), what.end());
  EXPECT_NE(std::find(what.begin(), what.end(), "goods.delete"), what.end());
  const std::string agent = zone_->Key(Role::kEnterprise, "4304963001");
  EXPECT_EQ(Call(zone_->port(), http::verb::get, "/api/v1/admin/goods", agent).status, 403);
}

TEST_F(ServerTest, TheOpenApiDescriptionMatchesTheRoutes) {
  HttpResult doc = Call(zone_->port(), http::verb::get, "/api/v1/openapi.json");
  ASSERT_EQ(doc.status, 200);
  std::set<std::pair<std::string, std::string>> described;
  const json::value spec = doc.Json();
  for (const auto& [path, item] : spec.at("paths").as_object()) {
    for (const auto& [method, op] : item.as_object()) {
      std::string m(method);
      for (char& c : m) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      described.emplace(m, std::string(path));
    }
  }
  std::set<std::pair<std::string, std::string>> served;
  for (const auto& r : Api::Routes()) served.insert(r);
  EXPECT_EQ(described, served);
  EXPECT_EQ(Call(zone_->port(), http::verb::get, "/api/v1/nothing").status, 404);
  EXPECT_EQ(Call(zone_->port(), http::verb::patch, "/api/v1/messages").status, 405);
}

// A local webhook receiver: records what it gets; answers 500 to the first `fail_first` requests.
class Receiver : public Handler {
 public:
  explicit Receiver(int fail_first) : fail_first_(fail_first) {}
  void Handle(Request req, Reply reply) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (fail_first_-- > 0) {
      ++failures_;
      return reply(MakeResponse(http::status::internal_server_error, "busy", "text/plain"));
    }
    bodies_.push_back(req.message.body());
    signatures_.push_back(std::string(req.message["X-Kuajing-Signature"]));
    reply(MakeResponse(http::status::ok, "ok", "text/plain"));
  }
  std::vector<std::string> bodies() {
    std::lock_guard<std::mutex> lock(mu_);
    return bodies_;
  }
  std::vector<std::string> signatures() {
    std::lock_guard<std::mutex> lock(mu_);
    return signatures_;
  }
  int failures() {
    std::lock_guard<std::mutex> lock(mu_);
    return failures_;
  }

 private:
  std::mutex mu_;
  int fail_first_;
  int failures_ = 0;
  std::vector<std::string> bodies_, signatures_;
};

template <typename F>
bool Eventually(F done) {
  for (int i = 0; i < 100; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

TEST_F(ServerTest, WebhooksPushSignedReceiptsRetryAndDeadLetter) {
  Receiver receiver(/*fail_first=*/1);
  HttpServer receiver_server(&receiver, ServerLimits{}, 1);
  ASSERT_TRUE(receiver_server.Start("127.0.0.1", 0).ok());
  const std::string agent = zone_->Key(Role::kEnterprise, "4304963001");
  const std::string platform = zone_->Key(Role::kEnterprise, "4304961001");
  HttpResult put =
      Call(zone_->port(), http::verb::put, "/api/v1/webhook", agent,
           R"({"url":"http://127.0.0.1:)" + std::to_string(receiver_server.port()) + R"(/hook"})");
  ASSERT_EQ(put.status, 200) << put.body;
  const std::string secret = json::value_to<std::string>(put.Json().at("secret"));
  EXPECT_EQ(
      Call(zone_->port(), http::verb::put, "/api/v1/webhook", agent, R"({"url":"ftp://x"})").status,
      400);
  // The platform's webhook points at a port where nobody listens: its receipts become dead letters.
  ASSERT_EQ(Call(zone_->port(), http::verb::put, "/api/v1/webhook", platform,
                 R"({"url":"http://127.0.0.1:1/x"})")
                .status,
            200);

  app::ClearanceMessages m = app::MakeClearance(app::DemoClearances()[0]);
  ASSERT_EQ(Post(agent, m.inventory).status, 200);
  ASSERT_EQ(Post(platform, m.order).status, 200);
  ASSERT_TRUE(Eventually([&] { return receiver.bodies().size() >= 1; })) << "nothing delivered";
  EXPECT_EQ(receiver.failures(), 1) << "the first attempt failed and was retried";
  const auto bodies = receiver.bodies();
  ASSERT_EQ(bodies.size(), 1u);
  EXPECT_EQ(receiver.signatures()[0], "sha256=" + HmacSha256Hex(secret, bodies[0]));
  json::value delivered = json::parse(bodies[0]);
  EXPECT_EQ(json::value_to<std::string>(delivered.at("type")), "CEB622");
  EXPECT_EQ(json::value_to<std::string>(delivered.at("status")), "2");

  ASSERT_TRUE(Eventually([&] {
    return !Call(zone_->port(), http::verb::get, "/api/v1/webhook/dead-letters", platform)
                .Json()
                .at("deadLetters")
                .as_array()
                .empty();
  }));
  auto letters =
      Call(zone_->port(), http::verb::get, "/api/v1/webhook/dead-letters", platform).Json();
  EXPECT_EQ(letters.at("deadLetters").as_array()[0].at("attempts").as_int64(), 3);
  // The agent's webhook is healthy and does not see the platform's dead letters.
  EXPECT_TRUE(Call(zone_->port(), http::verb::get, "/api/v1/webhook/dead-letters", agent)
                  .Json()
                  .at("deadLetters")
                  .as_array()
                  .empty());
  EXPECT_EQ(Call(zone_->port(), http::verb::get, "/api/v1/webhook", agent)
                .Json()
                .at("failedAttempts")
                .as_int64(),
            0);
  EXPECT_EQ(Call(zone_->port(), http::verb::delete_, "/api/v1/webhook", agent).status, 200);
  EXPECT_EQ(Call(zone_->port(), http::verb::get, "/api/v1/webhook", agent).status, 404);
  // A deleted webhook gets nothing more: the deliverer keeps the webhooks it read between rounds
  // and must read them again. (Kept, the agent's would have its next receipt in one round.)
  const size_t before = receiver.bodies().size();
  ASSERT_EQ(Post(agent, app::MakeClearance(app::DemoClearances()[1]).inventory).status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(receiver.bodies().size(), before);
  receiver_server.Stop();
}

}  // namespace
}  // namespace kuajing::server

namespace kuajing::server {
namespace {

// Risk rules are reloaded by an administrator; without a configured file that is a conflict.
TEST_F(ServerTest, RiskReloadNeedsAnAdminAndAFile) {
  const std::string admin = zone_->Key(Role::kAdmin), officer = zone_->Key(Role::kOfficer);
  EXPECT_EQ(Call(zone_->port(), http::verb::post, "/api/v1/admin/risk/reload", officer).status,
            403);
  HttpResult r = Call(zone_->port(), http::verb::post, "/api/v1/admin/risk/reload", admin);
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_NE(r.body.find("no risk rules file"), std::string::npos) << r.body;
}

// The credit system over HTTP (docs/CREDIT.md): an enterprise reads its own record only; an
// officer pins a grade and lists a buyer, both audited, and both survive a restart.
TEST_F(ServerTest, CreditRecordsPinsAndDiscreditedBuyers) {
  const std::string officer = zone_->Key(Role::kOfficer), admin = zone_->Key(Role::kAdmin);
  const std::string agent = zone_->Key(Role::kEnterprise, "4304963001");
  const std::string platform = zone_->Key(Role::kEnterprise, "4304961001");
  app::BatchMessages b = app::MakeBatch(app::GeneratedClearances(700, 5));
  ASSERT_EQ(Post(agent, b.inventories).status, 200);
  ASSERT_EQ(Post(platform, b.orders).status, 200);
  auto get = [&](const std::string& path, const std::string& key) {
    return Call(zone_->port(), http::verb::get, path, key);
  };
  HttpResult own = get("/api/v1/credit/enterprises/4304963001", agent);
  ASSERT_EQ(own.status, 200) << own.body;
  EXPECT_EQ(json::value_to<std::string>(own.Json().at("grade")), "B");
  EXPECT_EQ(own.Json().at("declarations").as_int64(), 5);
  EXPECT_EQ(get("/api/v1/credit/enterprises/4304961001", agent).status, 404);
  auto mine = get("/api/v1/credit/enterprises", agent).Json().at("enterprises").as_array();
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_EQ(json::value_to<std::string>(mine[0].at("code")), "4304963001");
  EXPECT_EQ(get("/api/v1/credit/enterprises", officer).Json().at("enterprises").as_array().size(),
            2u);

  const std::string pin = R"({"grade":"D","reason":"smuggling case 2024-17"})";
  EXPECT_EQ(Call(zone_->port(), http::verb::put, "/api/v1/credit/enterprises/4304963001/grade",
                 agent, pin)
                .status,
            403);
  EXPECT_EQ(Call(zone_->port(), http::verb::put, "/api/v1/credit/enterprises/4304963001/grade",
                 officer, R"({"grade":"D"})")
                .status,
            400);  // no reason
  EXPECT_EQ(
      Call(zone_->port(), http::verb::put, "/api/v1/credit/enterprises/NOSUCH/grade", officer, pin)
          .status,
      400);
  // A reason of 1,000 bytes is the most a correction takes.
  EXPECT_EQ(Call(zone_->port(), http::verb::put, "/api/v1/credit/enterprises/4304963001/grade",
                 officer, R"({"grade":"C","reason":")" + std::string(1001, 'x') + R"("})")
                .status,
            400);
  EXPECT_EQ(Call(zone_->port(), http::verb::put, "/api/v1/credit/enterprises/4304963001/grade",
                 officer, R"({"grade":null,"reason":")" + std::string(1000, 'x') + R"("})")
                .status,
            200);
  HttpResult put = Call(zone_->port(), http::verb::put,
                        "/api/v1/credit/enterprises/4304963001/grade", officer, pin);
  ASSERT_EQ(put.status, 200) << put.body;
  const std::string buyer = R"({"name":"钱三","reason":"rented her ID to a fake-order ring"})";
  EXPECT_EQ(Call(zone_->port(), http::verb::put, "/api/v1/credit/buyers/430402199002020037",
                 officer, buyer)
                .status,
            400);  // wrong check digit
  ASSERT_EQ(Call(zone_->port(), http::verb::put, "/api/v1/credit/buyers/430402199002020036",
                 officer, buyer)
                .status,
            200);

  zone_.reset();
  zone_ = std::make_unique<Zone>(dir_);
  auto rec = get("/api/v1/credit/enterprises/4304963001", officer).Json();
  EXPECT_EQ(json::value_to<std::string>(rec.at("grade")), "D");
  EXPECT_EQ(json::value_to<std::string>(rec.at("computedGrade")), "B");
  EXPECT_EQ(json::value_to<std::string>(rec.at("pin").at("reason")), "smuggling case 2024-17");
  ASSERT_EQ(rec.at("history").as_array().size(), 2u);  // the clearing, then the pin
  auto status = get("/api/v1/status", "").Json();
  EXPECT_EQ(status.at("creditGrades").at("D").as_int64(), 1);
  EXPECT_EQ(status.at("discreditedBuyers").as_int64(), 1);
  EXPECT_NE(get("/metrics", "").body.find("kuajing_credit_enterprises{grade=\"D\"} 1"),
            std::string::npos);
  auto buyers = get("/api/v1/credit/buyers", officer).Json().at("buyers").as_array();
  ASSERT_EQ(buyers.size(), 1u);
  EXPECT_EQ(json::value_to<std::string>(buyers[0].at("buyerName")), "钱三");
  EXPECT_EQ(get("/api/v1/credit/buyers", agent).status, 403);
  EXPECT_EQ(Call(zone_->port(), http::verb::delete_, "/api/v1/credit/buyers/430402199002020036",
                 officer, R"({"reason":"identity theft confirmed"})")
                .status,
            200);
  EXPECT_EQ(Call(zone_->port(), http::verb::delete_, "/api/v1/credit/buyers/430402199002020036",
                 officer, R"({"reason":"again"})")
                .status,
            404);
  const std::string audit = get("/api/v1/admin/audit", admin).body;
  for (const char* action : {"credit.grade", "credit.buyer-add", "credit.buyer-remove"})
    EXPECT_NE(audit.find(action), std::string::npos) << action << " not audited: " << audit;
}

// The statistics over HTTP (docs/METRICS.md): the day's cleared lists equal the released count,
// the answers are bounded, and only officers and administrators read them.
TEST_F(ServerTest, StatisticsSummarySeriesAndRanking) {
  const std::string officer = zone_->Key(Role::kOfficer);
  const std::string agent = zone_->Key(Role::kEnterprise, "4304963001");
  const std::string platform = zone_->Key(Role::kEnterprise, "4304961001");
  const std::string pay = zone_->Key(Role::kEnterprise, "312226T001");
  const std::string logistics = zone_->Key(Role::kEnterprise, "4304964001");
  app::BatchMessages b = app::MakeBatch(app::GeneratedClearances(900, 30));
  ASSERT_EQ(Post(agent, b.inventories).status, 200);
  ASSERT_EQ(Post(platform, b.orders).status, 200);
  ASSERT_EQ(Post(pay, b.payments).status, 200);
  ASSERT_EQ(Post(logistics, b.waybills).status, 200);
  auto get = [&](const std::string& path, const std::string& key = "") {
    return Call(zone_->port(), http::verb::get, path, key);
  };
  const int64_t released = get("/api/v1/status").Json().at("inventories").at("released").as_int64();
  ASSERT_GT(released, 20);
  HttpResult sum = get("/api/v1/stats/summary?from=20240611&to=20240611", officer);
  ASSERT_EQ(sum.status, 200) << sum.body;
  EXPECT_EQ(sum.Json().at("import").at("lists").as_int64(), released) << sum.body;
  EXPECT_EQ(sum.Json().at("import").at("activeEnterprises").as_int64(), 1);
  // Nothing the day before, nor a year before: growth has no base.
  EXPECT_TRUE(sum.Json().at("import").at("vsPreviousPeriod").at("lists").is_null()) << sum.body;
  EXPECT_TRUE(sum.Json().at("import").at("vsLastYear").at("lists").is_null());
  // July (a whole month) compares with June, where the lists are: -100 %.
  auto july = get("/api/v1/stats/summary?from=20240701&to=20240731", officer).Json();
  EXPECT_EQ(july.at("import").at("vsPreviousPeriod").at("base").at("lists").as_int64(), released);
  EXPECT_EQ(json::value_to<std::string>(july.at("import").at("vsPreviousPeriod").at("lists")),
            "-100");
  EXPECT_EQ(get("/api/v1/stats/summary?from=20240612&to=20240630", officer)
                .Json()
                .at("import")
                .at("lists")
                .as_int64(),
            0);
  auto series = get("/api/v1/stats/series?from=20240601&to=20240630", officer).Json();
  ASSERT_EQ(series.at("points").as_array().size(), 1u);
  EXPECT_EQ(json::value_to<std::string>(series.at("points").as_array()[0].at("period")),
            "20240611");
  auto rank = get("/api/v1/stats/ranking?from=20240601&to=20240630&by=chapter&limit=2", officer);
  ASSERT_EQ(rank.status, 200) << rank.body;
  EXPECT_LE(rank.Json().at("rows").as_array().size(), 2u);
  // A daily series holds at most 400 days: 20240101..20250203 is 400, one more is refused.
  EXPECT_EQ(get("/api/v1/stats/series?from=20240101&to=20250203", officer).status, 200);
  EXPECT_EQ(get("/api/v1/stats/series?from=20240101&to=20250204", officer).status, 400);
  EXPECT_EQ(get("/api/v1/stats/ranking?from=20240601&to=20240630&limit=101", officer).status, 400);
  EXPECT_EQ(get("/api/v1/stats/summary?from=20240630&to=20240601", officer).status, 400);
  EXPECT_EQ(get("/api/v1/stats/summary?from=20240601&to=20240630", agent).status, 403);

  // Distributions: every released list has a clearance time; a refused list counts among the
  // refusals; each buyer with an amount falls in one band. The refusals are stored, the rest is
  // rebuilt: all the same after a restart.
  auto dist = [&] {
    HttpResult d = get("/api/v1/stats/distributions?from=20240601&to=20240630", officer);
    EXPECT_EQ(d.status, 200) << d.body;
    return d.Json();
  };
  // A message that is not XML is refused with a CEB900.
  ASSERT_EQ(Post(agent, "<CEB621Message>not closed").status, 400);
  const json::value before = dist();
  int64_t timed = 0;
  for (const auto& b : before.at("clearanceTime").as_array()) timed += b.at("lists").as_int64();
  EXPECT_EQ(timed, released);
  // One morning's generated lists all fall in one bucket: every percentile is its upper edge.
  for (const auto& b : before.at("clearanceTime").as_array()) {
    if (b.at("lists").as_int64() != released) continue;
    EXPECT_EQ(before.at("clearanceTimeUnderSeconds").at("p50"), b.at("underSeconds"));
    EXPECT_EQ(before.at("clearanceTimeUnderSeconds").at("p99"), b.at("underSeconds"));
  }
  const int64_t refused = before.at("refusals").at("total").as_int64();
  EXPECT_EQ(refused, 1) << before;
  EXPECT_EQ(before.at("refusals").at("top").as_array()[0].at("receiptType"), "CEB900");
  int64_t buyers = 0;
  for (const auto& b : before.at("quota").at("buckets").as_array())
    buyers += b.at("buyers").as_int64();
  EXPECT_GT(buyers, 0);
  EXPECT_LE(buyers, released);
  EXPECT_EQ(before.at("quota").at("year").as_int64(), 2024);
  zone_.reset();
  zone_ = std::make_unique<Zone>(dir_);
  EXPECT_EQ(dist(), before);
  EXPECT_EQ(get("/api/v1/stats/distributions?from=20240601&to=20240630&limit=0", officer).status,
            400);
  EXPECT_EQ(get("/api/v1/stats/distributions?from=20240601&to=20240630&limit=100", officer).status,
            200);
  EXPECT_EQ(get("/api/v1/stats/distributions?from=20240601&to=20240630&limit=101", officer).status,
            400);
}

// Export over HTTP (issue 4): each party sends its own documents with its own key; the officer
// runs the month's summary; the agent reads its summary and receipts, the consignor its ledger,
// and another enterprise neither.
TEST_F(ServerTest, ExportSummaryAndLedgerOverHttp) {
  const std::string ebc = zone_->Key(Role::kEnterprise, "4304962002");
  const std::string pay = zone_->Key(Role::kEnterprise, "312226T001");
  const std::string logistics = zone_->Key(Role::kEnterprise, "4304964001");
  const std::string agent = zone_->Key(Role::kEnterprise, "4304963001");
  const std::string site = zone_->Key(Role::kEnterprise, "4304965002");
  const std::string other = zone_->Key(Role::kEnterprise, "4304962001");
  const std::string officer = zone_->Key(Role::kOfficer);
  int b_lines = 0;
  size_t lines = 0;
  for (const auto& s : app::GeneratedExports(1, 12, 2024, 6)) {
    app::ExportMessages m = app::MakeExport(s);
    ASSERT_EQ(Post(ebc, m.order).status, 200);
    ASSERT_EQ(Post(pay, m.receipts).status, 200);
    ASSERT_EQ(Post(logistics, m.waybill).status, 200);
    HttpResult inv = Post(agent, m.inventory);
    ASSERT_EQ(inv.status, 200) << inv.body;
    HttpResult arrival = Post(site, m.arrival);
    ASSERT_EQ(arrival.status, 200);
    // The release (604 800) goes to the list's parties, not to the site operator.
    EXPECT_NE(arrival.body.find("CEB508"), std::string::npos) << arrival.body;
    EXPECT_EQ(arrival.body.find("CEB604"), std::string::npos) << arrival.body;
    HttpResult dep = Post(logistics, m.departure);
    EXPECT_NE(dep.body.find("\"899\""), std::string::npos) << dep.body;
    lines += s.items.size();
    if (s.statistics_flag == "B") b_lines += static_cast<int>(s.items.size());
  }
  ASSERT_GT(b_lines, 0);
  EXPECT_NE(Call(zone_->port(), http::verb::get, "/metrics")
                .body.find("kuajing_export_lists{state=\"closed\"} 12"),
            std::string::npos);
  // Only officers and admins run the summary.
  EXPECT_EQ(Call(zone_->port(), http::verb::post, "/api/v1/export/summaries", agent,
                 R"({"month":"2024-06"})")
                .status,
            403);
  EXPECT_EQ(Call(zone_->port(), http::verb::post, "/api/v1/export/summaries", officer,
                 R"({"month":"June"})")
                .status,
            400);
  HttpResult run = Call(zone_->port(), http::verb::post, "/api/v1/export/summaries", officer,
                        R"({"month":"2024-06"})");
  ASSERT_EQ(run.status, 200) << run.body;
  EXPECT_EQ(run.Json().at("applications").as_int64(), 1);

  HttpResult sums = Call(zone_->port(), http::verb::get, "/api/v1/export/summaries", agent);
  ASSERT_EQ(sums.status, 200);
  const json::value sums_json = sums.Json();
  const auto& list = sums_json.at("summaries").as_array();
  ASSERT_EQ(list.size(), 1u);
  int64_t mapped = 0;
  for (const auto& d : list[0].at("declarations").as_array())
    for (const auto& l : d.at("lines").as_array()) mapped += l.at("listLines").as_int64();
  EXPECT_EQ(mapped, b_lines);
  EXPECT_TRUE(Call(zone_->port(), http::verb::get, "/api/v1/export/summaries", other)
                  .Json()
                  .at("summaries")
                  .as_array()
                  .empty());

  // The agent's feed carries the CEB702 and the CEB792.
  HttpResult feed = Call(zone_->port(), http::verb::get, "/api/v1/receipts?limit=500", agent);
  EXPECT_NE(feed.body.find("CEB792"), std::string::npos);
  EXPECT_NE(feed.body.find("CEB702"), std::string::npos);
  EXPECT_NE(feed.body.find("\"800\""), std::string::npos);

  HttpResult ledger =
      Call(zone_->port(), http::verb::get, "/api/v1/export/ledger?month=2024-06", ebc);
  ASSERT_EQ(ledger.status, 200);
  EXPECT_EQ(std::count(ledger.body.begin(), ledger.body.end(), '\n'),
            static_cast<std::ptrdiff_t>(lines) + 1);
  EXPECT_EQ(ledger.body.rfind("date,invtNo,tradeMode,gnum,gcode,gname,qty", 0), 0u);
  EXPECT_EQ(Call(zone_->port(), http::verb::get,
                 "/api/v1/export/ledger?month=2024-06&ebcCode=4304962002", other)
                .status,
            403);
  HttpResult dues = Call(zone_->port(), http::verb::get, "/api/v1/export/dues", officer);
  ASSERT_EQ(dues.status, 200);
  const json::value dues_json = dues.Json();
  ASSERT_EQ(dues_json.at("dues").as_array().size(), 1u);
  EXPECT_FALSE(dues_json.at("dues").as_array()[0].at("late").as_bool());
  // The list is found by its business key.
  HttpResult doc = Call(zone_->port(), http::verb::get,
                        "/api/v1/documents/exportInventory?ebcCode=4304962002&orderNo=HYX1", agent);
  EXPECT_EQ(doc.status, 200) << doc.body;
}

}  // namespace
}  // namespace kuajing::server
