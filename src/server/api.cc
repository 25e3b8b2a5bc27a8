#include "server/api.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "app/export_reports.h"
#include "clearance/rules.h"
#include "codec/codec.h"
#include "common/civil_time.h"
#include "common/codes.h"
#include "common/thread_name.h"
#include "server/json_text.h"
#include "server/openapi.h"
#include "storage/blob_codec.h"

namespace kuajing::server {

namespace json = boost::json;

namespace {

Response Json(http::status status, const json::value& v) {
  return MakeResponse(status, json::serialize(v) + "\n", "application/json");
}

// The one place that maps an error to an HTTP status.
http::status HttpStatusOf(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return http::status::ok;
    case StatusCode::kInvalidArgument:
      return http::status::bad_request;
    case StatusCode::kNotFound:
      return http::status::not_found;
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
      return http::status::conflict;
    case StatusCode::kResourceExhausted:
      return http::status::too_many_requests;
    case StatusCode::kUnavailable:
      return http::status::service_unavailable;
    case StatusCode::kInternal:
      return http::status::internal_server_error;
    case StatusCode::kUnauthenticated:
      return http::status::unauthorized;
    case StatusCode::kPermissionDenied:
      return http::status::forbidden;
  }
  return http::status::internal_server_error;
}

Response Error(const Status& s) {
  Response r = Json(HttpStatusOf(s.code()),
                    json::object{{"error", StatusCodeName(s.code())}, {"message", s.message()}});
  if (s.code() == StatusCode::kUnauthenticated) r.set(http::field::www_authenticate, "Bearer");
  if (s.code() == StatusCode::kResourceExhausted || s.code() == StatusCode::kUnavailable) {
    r.set(http::field::retry_after, "1");
  }
  return r;
}

std::string UrlDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() &&
               std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

struct Target {
  std::string path;
  std::map<std::string, std::string> query;
};

Target ParseTarget(std::string_view target) {
  Target t;
  size_t q = target.find('?');
  t.path = std::string(target.substr(0, q));
  if (q == std::string_view::npos) return t;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    size_t eq = pair.find('=');
    t.query[UrlDecode(pair.substr(0, eq))] =
        eq == std::string_view::npos ? "" : UrlDecode(pair.substr(eq + 1));
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
  }
  return t;
}

// A whole number query parameter within [lo, hi], or `fallback` when absent.
StatusOr<int64_t> IntParam(const Target& t, const std::string& name, int64_t fallback, int64_t lo,
                           int64_t hi) {
  auto it = t.query.find(name);
  if (it == t.query.end() || it->second.empty()) return fallback;
  const std::string& v = it->second;
  if (v.size() > 18 || v.find_first_not_of("0123456789") != std::string::npos ||
      std::stoll(v) < lo || std::stoll(v) > hi) {
    return InvalidArgument(name + " must be a whole number from " + std::to_string(lo) + " to " +
                           std::to_string(hi));
  }
  return std::stoll(v);
}

json::object ReceiptJson(const storage::StoredReceipt& r) {
  json::object o{
      {"type", r.type}, {"status", r.status}, {"answers", r.answers_guid}, {"xml", r.xml}};
  if (r.id != 0) o["id"] = r.id;
  return o;
}

// A page of the feed: {"receipts":[...],"next":id}, `next` the last id on the page (or `after`
// if it is empty), written straight into the body (server/json_text.h).
Response FeedPage(const std::vector<storage::StoredReceipt>& page, int64_t after) {
  size_t size = 64;
  for (const auto& r : page) size += ReceiptJsonSizeHint(r);
  std::string body;
  body.reserve(size);
  body.append("{\"receipts\":[");
  int64_t next = after;
  for (const auto& r : page) {
    if (&r != &page.front()) body.push_back(',');
    AppendReceiptJson(body, r);
    next = r.id;
  }
  body.append("],\"next\":").append(std::to_string(next)).append("}\n");
  return MakeResponse(http::status::ok, std::move(body), "application/json");
}

bool InAudience(const storage::StoredReceipt& r, const std::string& enterprise) {
  return std::find(r.audience.begin(), r.audience.end(), enterprise) != r.audience.end();
}

StatusOr<json::object> JsonBody(const Request& req) {
  json::error_code ec;
  json::value v = json::parse(req.message.body(), ec);
  if (ec || !v.is_object()) return InvalidArgument("the body must be a JSON object");
  return v.as_object();
}

std::string Str(const json::object& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? std::string(it->value().as_string())
                                                  : std::string();
}

std::vector<std::string> SplitTabs(const std::string& s) {
  std::vector<std::string> out;
  size_t p = 0;
  while (true) {
    size_t t = s.find('\t', p);
    out.push_back(s.substr(p, t - p));
    if (t == std::string::npos) return out;
    p = t + 1;
  }
}

Status ApplyChange(const storage::ReferenceChange& c, reference::ReferenceData& ref) {
  if (c.kind == "enterprise") {
    if (c.value.empty()) {
      ref.RemoveEnterprise(c.key);
      return Status::Ok();
    }
    auto f = SplitTabs(c.value);  // name, roles, verified
    if (f.size() != 3) return Internal("stored enterprise change " + c.key + " is malformed");
    reference::Enterprise e{c.key, f[0], 0, f[2] == "1"};
    if (!reference::ReferenceData::ParseRoles(f[1], &e.roles))
      return Internal("stored roles of " + c.key);
    return ref.PutEnterprise(e);
  }
  if (c.kind == "goods") {
    if (c.value.empty()) {
      ref.RemoveGoods(c.key);
      return Status::Ok();
    }
    auto f = SplitTabs(c.value);  // name, vat, ct, duty
    if (f.size() != 4) return Internal("stored goods change " + c.key + " is malformed");
    auto vat = Decimal::Parse(f[1]), ct = Decimal::Parse(f[2]), duty = Decimal::Parse(f[3]);
    if (!vat || !ct || !duty) return Internal("stored rates of " + c.key);
    return ref.PutGoods(reference::GoodsLine{c.key, f[0], *vat, *ct, *duty});
  }
  return Internal("unknown reference change kind " + c.kind);
}

}  // namespace

Status ApplyReferenceChanges(storage::AccountStore& accounts, reference::ReferenceData& reference) {
  auto changes = accounts.ReferenceChanges();
  if (!changes.ok()) return changes.status();
  for (const auto& c : *changes) KJ_RETURN_IF_ERROR(ApplyChange(c, reference));
  return Status::Ok();
}

Api::Api(app::Platform* platform, storage::AccountStore* accounts, ApiOptions options)
    : platform_(platform),
      accounts_(accounts),
      options_(std::move(options)),
      started_ms_(options_.clock()) {
  auto last = platform_->store().LastReceiptId();
  last_receipt_id_ = last.ok() ? *last : 0;
  WebhookOptions wo = options_.webhooks;
  if (!wo.clock) wo.clock = options_.clock;
  webhooks_ = std::make_unique<WebhookDeliverer>(
      accounts_,
      [this](const std::string& enterprise, int64_t after, int limit) {
        return DurableFeed(enterprise, after, limit);
      },
      wo);
  LoadWebFiles();
  poller_ = std::thread([this] { PollLoop(); });
  syncer_ = std::thread([this] { SyncerLoop(); });
  writer_ = std::thread([this] { WriterLoop(); });
}

Api::~Api() {
  {
    std::lock_guard<std::mutex> lock(intake_mu_);
    intake_stopping_ = true;
  }
  intake_cv_.notify_all();
  writer_.join();  // commits what was queued first
  {
    std::lock_guard<std::mutex> lock(sync_mu_);
    sync_stopping_ = true;
  }
  sync_cv_.notify_all();
  syncer_.join();  // flushes and answers what the writer committed
  webhooks_.reset();
  ReleaseWaiters();
  {
    std::lock_guard<std::mutex> lock(waiters_mu_);
    stopping_ = true;
  }
  waiters_cv_.notify_all();
  poller_.join();
}

void Api::Handle(Request request, Reply reply) {
  const auto t0 = std::chrono::steady_clock::now();
  auto who = std::make_shared<std::string>();  // filled in by Dispatch once the key is known
  // Every answer, now or after a long poll, is counted and logged on its way out.
  Reply out = [this, t0, reply, who, method = std::string(request.message.method_string()),
               path = std::string(request.message.target().substr(0, 200)),
               ip = request.remote_ip](Response r) {
    const unsigned code = r.result_int();
    if (code < responses_.size()) {
      responses_[code].fetch_add(1, std::memory_order_relaxed);
    } else {
      std::lock_guard<std::mutex> lock(metrics_mu_);
      ++counters_["kuajing_http_responses_total{code=\"" + std::to_string(code) + "\"}"];
    }
    if (options_.log) {
      const int64_t us = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::steady_clock::now() - t0)
                             .count();
      thread_local std::string line;
      line.clear();
      AppendAccessLogLine(line,
                          {FormatReturnTime(options_.clock()), method, path, code, us, ip, *who});
      options_.log(line);
    }
    reply(std::move(r));
  };
  bool deferred = false;
  Response r;
  try {
    r = Dispatch(request, out, &deferred, who.get());
  } catch (const std::exception& e) {
    // A bug, not the client's fault: answer 500 and keep serving.
    r = Error(Internal(std::string("unexpected: ") + e.what()));
  }
  if (!deferred) out(std::move(r));
}

namespace {

enum class RouteId {
  kHealth,
  kMetrics,
  kStatus,
  kOpenApi,
  kQuota,
  kMessages,
  kFeed,
  kReceiptsOf,
  kHeld,
  kDecide,
  kKeysList,
  kKeysCreate,
  kKeysRevoke,
  kAudit,
  kEnterprises,
  kEnterprise,
  kEnterpriseDelete,
  kGoods,
  kGoodsLine,
  kGoodsDelete,
  kWebhookGet,
  kWebhookPut,
  kWebhookDelete,
  kDeadLetters,
  kDocument,
  kSummaries,
  kSummaryRun,
  kSummaryDues,
  kLedger,
  kRiskReload,
  kCreditEnterprises,
  kCreditEnterprise,
  kCreditGrade,
  kCreditBuyers,
  kCreditBuyerPut,
  kCreditBuyerDelete,
  kStatsSummary,
  kStatsSeries,
  kStatsRanking,
  kStatsDistributions,
  kHeldDocuments,
  kWhoAmI,
};

struct RouteDef {
  http::verb verb;
  const char* pattern;  // "{name}" matches one path segment
  RouteId id;
  std::vector<Role> roles;  // empty: public
};

const std::vector<RouteDef>& RouteTable() {
  using enum RouteId;
  static const std::vector<RouteDef> kRoutes = {
      {http::verb::get, "/healthz", kHealth, {}},
      {http::verb::get, "/metrics", kMetrics, {}},
      {http::verb::get, "/api/v1/status", kStatus, {}},
      {http::verb::get, "/api/v1/openapi.json", kOpenApi, {}},
      {http::verb::get, "/api/v1/quota", kQuota, {}},
      {http::verb::post, "/api/v1/messages", kMessages, {Role::kEnterprise}},
      {http::verb::get, "/api/v1/receipts", kFeed, {Role::kEnterprise}},
      {http::verb::get,
       "/api/v1/receipts/{guid}",
       kReceiptsOf,
       {Role::kEnterprise, Role::kOfficer, Role::kAdmin}},
      {http::verb::get,
       "/api/v1/documents/{kind}",
       kDocument,
       {Role::kEnterprise, Role::kOfficer, Role::kAdmin}},
      {http::verb::get,
       "/api/v1/whoami",
       kWhoAmI,
       {Role::kEnterprise, Role::kOfficer, Role::kAdmin}},
      {http::verb::get, "/api/v1/officer/held", kHeld, {Role::kOfficer, Role::kAdmin}},
      {http::verb::get,
       "/api/v1/officer/held/{invtNo}",
       kHeldDocuments,
       {Role::kOfficer, Role::kAdmin}},
      {http::verb::get,
       "/api/v1/export/summaries",
       kSummaries,
       {Role::kEnterprise, Role::kOfficer, Role::kAdmin}},
      {http::verb::post, "/api/v1/export/summaries", kSummaryRun, {Role::kOfficer, Role::kAdmin}},
      {http::verb::get,
       "/api/v1/export/dues",
       kSummaryDues,
       {Role::kEnterprise, Role::kOfficer, Role::kAdmin}},
      {http::verb::get,
       "/api/v1/export/ledger",
       kLedger,
       {Role::kEnterprise, Role::kOfficer, Role::kAdmin}},
      {http::verb::post, "/api/v1/officer/decisions", kDecide, {Role::kOfficer}},
      {http::verb::get, "/api/v1/webhook", kWebhookGet, {Role::kEnterprise}},
      {http::verb::put, "/api/v1/webhook", kWebhookPut, {Role::kEnterprise}},
      {http::verb::delete_, "/api/v1/webhook", kWebhookDelete, {Role::kEnterprise}},
      {http::verb::get, "/api/v1/webhook/dead-letters", kDeadLetters, {Role::kEnterprise}},
      {http::verb::post, "/api/v1/admin/risk/reload", kRiskReload, {Role::kAdmin}},
      {http::verb::get,
       "/api/v1/credit/enterprises",
       kCreditEnterprises,
       {Role::kEnterprise, Role::kOfficer, Role::kAdmin}},
      {http::verb::get,
       "/api/v1/credit/enterprises/{code}",
       kCreditEnterprise,
       {Role::kEnterprise, Role::kOfficer, Role::kAdmin}},
      {http::verb::put, "/api/v1/credit/enterprises/{code}/grade", kCreditGrade, {Role::kOfficer}},
      {http::verb::get, "/api/v1/credit/buyers", kCreditBuyers, {Role::kOfficer, Role::kAdmin}},
      {http::verb::put, "/api/v1/credit/buyers/{id}", kCreditBuyerPut, {Role::kOfficer}},
      {http::verb::delete_, "/api/v1/credit/buyers/{id}", kCreditBuyerDelete, {Role::kOfficer}},
      {http::verb::get, "/api/v1/stats/summary", kStatsSummary, {Role::kOfficer, Role::kAdmin}},
      {http::verb::get, "/api/v1/stats/series", kStatsSeries, {Role::kOfficer, Role::kAdmin}},
      {http::verb::get, "/api/v1/stats/ranking", kStatsRanking, {Role::kOfficer, Role::kAdmin}},
      {http::verb::get,
       "/api/v1/stats/distributions",
       kStatsDistributions,
       {Role::kOfficer, Role::kAdmin}},
      {http::verb::get, "/api/v1/admin/keys", kKeysList, {Role::kAdmin}},
      {http::verb::post, "/api/v1/admin/keys", kKeysCreate, {Role::kAdmin}},
      {http::verb::delete_, "/api/v1/admin/keys/{id}", kKeysRevoke, {Role::kAdmin}},
      {http::verb::get, "/api/v1/admin/audit", kAudit, {Role::kAdmin}},
      {http::verb::get, "/api/v1/admin/enterprises", kEnterprises, {Role::kAdmin}},
      {http::verb::put, "/api/v1/admin/enterprises/{code}", kEnterprise, {Role::kAdmin}},
      {http::verb::delete_, "/api/v1/admin/enterprises/{code}", kEnterpriseDelete, {Role::kAdmin}},
      {http::verb::get, "/api/v1/admin/goods", kGoods, {Role::kAdmin}},
      {http::verb::put, "/api/v1/admin/goods/{hs8}", kGoodsLine, {Role::kAdmin}},
      {http::verb::delete_, "/api/v1/admin/goods/{hs8}", kGoodsDelete, {Role::kAdmin}},
  };
  return kRoutes;
}

// Matches `path` against `pattern`; the value of a {segment} goes to *param.
bool Match(std::string_view pattern, std::string_view path, std::string* param) {
  while (!pattern.empty() && !path.empty()) {
    size_t pe = pattern.find('/', 1), se = path.find('/', 1);
    std::string_view ps = pattern.substr(0, pe), ss = path.substr(0, se);
    if (ps.size() > 2 && ps[1] == '{') {
      if (ss.size() < 2) return false;
      *param = UrlDecode(ss.substr(1));
    } else if (ps != ss) {
      return false;
    }
    pattern = pe == std::string_view::npos ? std::string_view() : pattern.substr(pe);
    path = se == std::string_view::npos ? std::string_view() : path.substr(se);
  }
  return pattern.empty() && path.empty();
}

}  // namespace

std::vector<std::pair<std::string, std::string>> Api::Routes() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& r : RouteTable())
    out.emplace_back(std::string(http::to_string(r.verb)), r.pattern);
  return out;
}

Response Api::Dispatch(Request& req, const Reply& reply, bool* deferred, std::string* who_out) {
  const Target t = ParseTarget(req.message.target());
  std::string param;
  const RouteDef* route = nullptr;
  bool path_known = false;
  for (const auto& r : RouteTable()) {
    std::string p;
    if (!Match(r.pattern, t.path, &p)) continue;
    path_known = true;
    if (r.verb == req.message.method()) {
      route = &r;
      param = p;
      break;
    }
  }
  if (route == nullptr) {
    if (path_known) {
      return Json(http::status::method_not_allowed,
                  json::object{{"error", "METHOD_NOT_ALLOWED"},
                               {"message", std::string(req.message.method_string()) +
                                               " is not used on " + t.path}});
    }
    // The web single window: its built assets, "/" being the dashboard.
    if (req.message.method() == http::verb::get && !t.path.starts_with("/api/")) {
      auto f = web_files_.find(t.path == "/" ? "/index.html" : t.path);
      if (f != web_files_.end()) {
        Response r = MakeResponse(http::status::ok, f->second.second, f->second.first);
        r.set(http::field::cache_control, "no-cache");
        r.set("X-Content-Type-Options", "nosniff");
        r.set("Content-Security-Policy",
              "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
              "frame-ancestors 'none'");
        return r;
      }
    }
    return Error(NotFound("no route " + std::string(req.message.method_string()) + " " + t.path));
  }
  using enum RouteId;
  switch (route->id) {  // public routes
    case kHealth:
      return MakeResponse(http::status::ok, "ok\n", "text/plain");
    case kMetrics:
      return StatusPage(true);
    case kStatus:
      return StatusPage(false);
    case kOpenApi:
      return MakeResponse(http::status::ok, kOpenApiJson, "application/json");
    case kQuota:
      return QuotaQuery(req);
    default:
      break;
  }
  auto who = Authenticate(*accounts_, std::string(req.message[http::field::authorization]));
  if (!who.ok()) return Error(who.status());
  *who_out = who->Describe();
  if (std::find(route->roles.begin(), route->roles.end(), who->role) == route->roles.end()) {
    return Error(PermissionDenied("a " + std::string(RoleName(who->role)) + " key may not use " +
                                  std::string(req.message.method_string()) + " " + route->pattern));
  }
  switch (route->id) {
    case kMessages:
      Intake(req, *who, reply);  // answered by the writer once durable
      *deferred = true;
      return {};
    case kFeed:
      return Feed(req, *who, reply, deferred);
    case kReceiptsOf:
      return ReceiptsOf(param, *who);
    case kDocument: {
      // The business key of each kind, as the standard names its elements.
      static const std::map<std::string, std::pair<const char*, const char*>> kKeys = {
          {"order", {"ebpCode", "orderNo"}},
          {"payment", {"payCode", "payTransactionId"}},
          {"waybill", {"logisticsCode", "logisticsNo"}},
          {"inventory", {"ebpCode", "orderNo"}},
          {"invtNo", {"invtNo", nullptr}},
          {"exportInventory", {"ebcCode", "orderNo"}},
          {"exportInvtNo", {"invtNo", nullptr}}};
      auto k = kKeys.find(param);
      if (k == kKeys.end()) {
        return Error(NotFound(
            "kind is order, payment, waybill, inventory, invtNo, exportInventory or exportInvtNo"));
      }
      auto a = t.query.find(k->second.first);
      auto b = k->second.second ? t.query.find(k->second.second) : t.query.end();
      if (a == t.query.end() || (k->second.second && b == t.query.end())) {
        return Error(
            InvalidArgument(std::string("give ") + k->second.first +
                            (k->second.second ? std::string(" and ") + k->second.second : "")));
      }
      std::string guid;
      {
        std::lock_guard<std::mutex> lock(platform_mu_);
        const std::string second = b == t.query.end() ? "" : b->second;
        guid = param == "exportInventory"
                   ? platform_->export_engine().GuidOf("x_inventory", a->second, second)
               : param == "exportInvtNo"
                   ? platform_->export_engine().GuidOf("x_invtNo", a->second, second)
                   : platform_->engine().GuidOf(param, a->second, second);
      }
      if (guid.empty())
        return Error(NotFound("no " + param + " under that key that this key may read"));
      return ReceiptsOf(guid, *who);
    }
    case kHeld:
      return Held(*who);
    case kHeldDocuments:
      return HeldDocuments(param);
    case kWhoAmI: {
      // What the key may do: the web pages show the right views, and prefill the enterprise code.
      json::object o{{"role", RoleName(who->role)}, {"keyId", who->key_id}};
      if (who->role == Role::kEnterprise) {
        o["enterprise"] = who->enterprise;
        std::lock_guard<std::mutex> lock(platform_mu_);
        if (const auto* e = platform_->reference().FindEnterprise(who->enterprise))
          o["name"] = e->name;
      }
      return Json(http::status::ok, std::move(o));
    }
    case kSummaries:
      return ExportSummaries(req, *who);
    case kSummaryRun:
      return ExportSummaryRun(req, *who);
    case kSummaryDues:
      return ExportDues(*who);
    case kLedger:
      return ExportLedger(req, *who);
    case kRiskReload: {
      StatusOr<std::string> version = Unavailable("not run");
      {
        std::lock_guard<std::mutex> lock(platform_mu_);
        version = platform_->ReloadRiskRules();
      }
      if (!version.ok()) return Error(version.status());
      (void)accounts_->Audit({0, options_.clock(), who->Describe(), "risk.reload", *version});
      return Json(http::status::ok, json::object{{"version", *version}});
    }
    case kDecide:
      return Decide(req, *who);
    case kCreditEnterprises:
      return CreditEnterprises(req, *who);
    case kCreditEnterprise:
      return CreditEnterprise(param, *who);
    case kCreditGrade:
    case kCreditBuyerPut:
    case kCreditBuyerDelete:
      return CreditCorrect(req, *who,
                           route->id == kCreditGrade      ? "grade"
                           : route->id == kCreditBuyerPut ? "buyer-add"
                                                          : "buyer-remove",
                           param);
    case kCreditBuyers:
      return CreditBuyers(req);
    case kStatsSummary:
    case kStatsSeries:
    case kStatsRanking:
    case kStatsDistributions:
      return Stats(req, route->id == kStatsSummary         ? "summary"
                        : route->id == kStatsSeries        ? "series"
                        : route->id == kStatsDistributions ? "distributions"
                                                           : "ranking");
    case kKeysList:
      return ListKeys();
    case kKeysCreate:
      return CreateKey(req, *who);
    case kKeysRevoke:
      return RevokeKey(param, *who);
    case kAudit:
      return AuditLog(req);
    case kEnterprises:
    case kEnterprise:
    case kEnterpriseDelete:
    case kGoods:
    case kGoodsLine:
    case kGoodsDelete:
      return Registry(req, *who, t.path);
    case kWebhookGet:
      return GetWebhook(*who);
    case kWebhookPut:
      return PutWebhook(req, *who);
    case kWebhookDelete:
      return DeleteWebhook(*who);
    case kDeadLetters:
      return DeadLetters(req, *who);
    default:
      return Error(Internal("unrouted"));
  }
}

void Api::Intake(Request& req, const Principal& who, const Reply& reply) {
  const auto arrived = std::chrono::steady_clock::now();
  // Reading the XML is a fifth of a message's work and needs no shared state: it runs here, on
  // the connection's I/O thread, in parallel; the single writer only decides and commits.
  codec::DecodeResult decoded = codec::Decode(req.message.body(), platform_->limits());
  // So is compressing what the store keeps of it (a zstd frame, storage/blob_codec.h): the
  // journal's frame then carries the packed bytes (16.4 -> 10.3 KB written per clearance,
  // bench/README.md), and the projector, which packed every message itself, only stores them.
  // Messages that did not decode are kept as received (the platform keeps their bytes only under
  // the size limit).
  app::Platform::StoredRaw stored;
  if (std::holds_alternative<codec::DecodedMessage>(decoded)) {
    thread_local storage::BlobCodec codec;
    const auto [bytes, format] = codec.Pack(req.message.body());
    if (format != storage::BlobFormat::kPlain) {
      stored.bytes.assign(bytes);
      stored.format = static_cast<int64_t>(format);
    }
  }
  {
    std::lock_guard<std::mutex> lock(intake_mu_);
    if (!intake_stopping_) {
      // The body moves to the writer (it answers a message refused for its form with it, and
      // keeps it if it was not packed): a copy was an allocation of the message's size, 160 KB
      // at 100 documents, faulted in page by page.
      intake_.push_back(IntakeJob{std::move(req.message.body()), std::move(decoded),
                                  std::move(stored), who, reply, arrived,
                                  PrefersMinimalReturn(req.message)});
      intake_cv_.notify_one();
      return;
    }
  }
  reply(Error(Unavailable("the server is stopping; send again shortly")));
}

void Api::WriterLoop() {
  NameThisThread("kj-writer");
  constexpr size_t kMaxGroup = 256;  // messages per commit at most
  std::unique_lock<std::mutex> lock(intake_mu_);
  while (true) {
    intake_cv_.wait(lock, [this] { return intake_stopping_ || !intake_.empty(); });
    if (intake_.empty()) return;  // stopping, and nothing left to answer
    std::vector<IntakeJob> jobs;
    const size_t n = std::min(kMaxGroup, intake_.size());
    std::move(intake_.begin(), intake_.begin() + static_cast<std::ptrdiff_t>(n),
              std::back_inserter(jobs));
    intake_.erase(intake_.begin(), intake_.begin() + static_cast<std::ptrdiff_t>(n));
    lock.unlock();

    std::vector<std::optional<StatusOr<app::Answer>>> results(jobs.size());
    SyncJob job;
    {
      std::lock_guard<std::mutex> p(platform_mu_);
      std::vector<app::Platform::Prepared> group;
      std::vector<size_t> members;  // job index of each prepared message
      auto commit = [&] {
        if (group.empty()) return;
        // Committed, not yet flushed: the syncer flushes before anything is answered.
        // The receipts stay packed: the syncer writes their XML into the answers.
        auto answers = platform_->CommitPrepared(group, /*sync=*/false, /*render=*/false);
        for (size_t i = 0; i < members.size(); ++i) {
          if (answers.ok()) {
            results[members[i]] = std::move((*answers)[i]);
          } else {
            results[members[i]] = answers.status();
          }
        }
        group.clear();
        members.clear();
      };
      // Which of the group's messages the store has already (resends), asked once for all: a
      // lookup per message took SQLite's read lock and dropped it again each time (5 % of this
      // thread with 10 documents per message, bench/README.md). Valid until something commits.
      std::vector<char> stored_before;
      {
        std::vector<std::string_view> guids(jobs.size());
        for (size_t i = 0; i < jobs.size(); ++i) {
          if (const auto* d = std::get_if<codec::DecodedMessage>(&jobs[i].decoded))
            guids[i] = d->message.guid;
        }
        auto stored = platform_->store().MessagesStored(guids);
        if (stored.ok()) stored_before = std::move(*stored);  // else each Prepare asks (and fails)
      }
      for (size_t i = 0; i < jobs.size(); ++i) {
        const bool unstored = !stored_before.empty() && stored_before[i] == 0;
        auto prepared =
            platform_->Prepare(std::move(jobs[i].body), std::move(jobs[i].decoded),
                               jobs[i].who.enterprise, options_.clock(), &jobs[i].stored, unstored);
        if (prepared.ok() && prepared->commit_first) {  // the same message twice in one group
          stored_before.clear();  // what this commit stores, the answers found before lack
          commit();
          // The body and the documents are still there: Prepare takes them (or the packed bytes)
          // only for a batch to commit.
          prepared = platform_->Prepare(std::move(jobs[i].body), std::move(jobs[i].decoded),
                                        jobs[i].who.enterprise, options_.clock(), &jobs[i].stored);
        }
        if (!prepared.ok()) {
          results[i] = prepared.status();
        } else if (prepared->ready) {
          results[i] = std::move(*prepared->ready);
        } else {
          group.push_back(std::move(*prepared));
          members.push_back(i);
        }
      }
      commit();
      auto last = platform_->store().LastReceiptId();
      job.last_receipt_id = last.ok() ? *last : 0;
    }
    // The flush to disk and the answers are the syncer's: this thread goes on with the next
    // messages meanwhile (bench/README.md). At most kMaxUnsynced groups wait for it.
    job.jobs = std::move(jobs);
    job.results = std::move(results);
    {
      std::unique_lock<std::mutex> s(sync_mu_);
      sync_cv_.wait(s, [this] { return unsynced_.size() < kMaxUnsynced; });
      unsynced_.push_back(std::move(job));
    }
    sync_cv_.notify_all();
    lock.lock();
  }
}

void Api::SyncerLoop() {
  NameThisThread("kj-syncer");
  // After a failed flush nothing later is answered OK, even if a later flush succeeds: what the
  // failed one should have written may be lost, and later groups were decided on top of it.
  Status flushed = Status::Ok();
  std::unique_lock<std::mutex> lock(sync_mu_);
  while (true) {
    sync_cv_.wait(lock, [this] { return sync_stopping_ || !unsynced_.empty(); });
    if (unsynced_.empty()) return;  // stopping, and nothing left to answer
    std::deque<SyncJob> work;
    work.swap(unsynced_);
    lock.unlock();
    sync_cv_.notify_all();  // room for the writer
    // One flush makes every group committed so far durable.
    if (flushed.ok()) flushed = platform_->store().Sync();
    if (!flushed.ok()) {
      std::lock_guard<std::mutex> p(platform_mu_);
      platform_->MarkBroken();  // memory is ahead of the disk now
    }
    for (SyncJob& job : work) {
      if (flushed.ok()) NoteDurable(job.last_receipt_id);
      // Answers go out only now: everything in them is durable.
      for (size_t i = 0; i < job.jobs.size(); ++i) {
        job.jobs[i].reply(IntakeResponse(
            flushed.ok() ? *job.results[i] : StatusOr<app::Answer>(flushed), job.jobs[i]));
      }
    }
    AfterCommit();
    lock.lock();
  }
}

void Api::NoteDurable(int64_t receipt_id) {
  int64_t seen = last_receipt_id_.load();
  while (receipt_id > seen && !last_receipt_id_.compare_exchange_weak(seen, receipt_id)) {
  }
}

StatusOr<std::vector<storage::StoredReceipt>> Api::DurableFeed(const std::string& enterprise,
                                                               int64_t after, int limit) {
  const int64_t durable = last_receipt_id_.load();
  StatusOr<std::vector<storage::StoredReceipt>> page = std::vector<storage::StoredReceipt>{};
  {
    std::lock_guard<std::mutex> lock(platform_mu_);
    page = platform_->store().ReceiptsFor(enterprise, after, limit);
  }
  if (page.ok()) {  // receipts committed but not yet flushed wait for the flush
    while (!page->empty() && page->back().id > durable) page->pop_back();
  }
  return page;
}

Response Api::IntakeResponse(const StatusOr<app::Answer>& answer, const IntakeJob& job) {
  if (!answer.ok()) return Error(answer.status());
  // {"repeated":...,"receipts":[...]}, written straight into the body (server/json_text.h).
  // The new receipts as the store keeps them (shared), then any others.
  std::vector<const storage::StoredReceipt*> all;
  all.reserve((answer->stored ? answer->stored->size() : 0) + answer->receipts.size());
  if (answer->stored) {
    for (const auto& r : *answer->stored) all.push_back(&r);
  }
  for (const auto& r : answer->receipts) all.push_back(&r);
  // A sender preferring `return=minimal` (RFC 7240) takes its receipts from the feed or its
  // webhook: the answer then says what became of each document, with the XML only of refusals,
  // whose reasons it must act on (bench/README.md: the receipts' XML was half the answer's bytes
  // and most of the syncer's work).
  const auto brief = [&](const storage::StoredReceipt& r) {
    return job.minimal && r.type != "CEB900" && !clearance::status::IsRefusal(r.status);
  };
  size_t size = 64;
  for (const auto* r : all)
    size += brief(*r) ? BriefReceiptJsonSizeHint(*r) : ReceiptJsonSizeHint(*r);
  std::string body;
  body.reserve(size);
  body.append(answer->repeated ? "{\"repeated\":true,\"receipts\":["
                               : "{\"repeated\":false,\"receipts\":[");
  bool only_format_error = true, any = false;
  for (const auto* receipt : all) {
    const storage::StoredReceipt& r = *receipt;
    if (!InAudience(r, job.who.enterprise) && r.type != "CEB900") continue;  // others' documents
    only_format_error = only_format_error && r.type == "CEB900";
    if (any) body.push_back(',');
    any = true;
    if (brief(r)) {
      AppendBriefReceiptJson(body, r);
    } else if (r.xml.empty() && !r.packed.empty()) {
      // Left packed by the single writer (Platform::CommitPrepared): written here, on this
      // thread, and only for what this sender reads, straight into the JSON.
      if (Status st = AppendPackedReceiptJson(body, r); !st.ok()) return Error(st);
    } else {
      AppendReceiptJson(body, r);
    }
  }
  body.append("]}\n");
  intake_latency_.Observe(std::chrono::steady_clock::now() - job.arrived);
  // The receipts counted by type and status first: a message's hundreds of receipts are of a few
  // kinds, and each metric line is a string built and looked up.
  std::vector<std::pair<std::pair<std::string_view, std::string_view>, uint64_t>> kinds;
  for (const auto* r : all) {
    const std::pair<std::string_view, std::string_view> key{r->type, r->status};
    auto it =
        std::find_if(kinds.begin(), kinds.end(), [&](const auto& k) { return k.first == key; });
    if (it == kinds.end()) {
      kinds.push_back({key, 1});
    } else {
      ++it->second;
    }
  }
  {
    std::lock_guard<std::mutex> lock(metrics_mu_);
    for (const auto& [type_status, n] : kinds) {
      counters_["kuajing_receipts_total{type=\"" + std::string(type_status.first) + "\",status=\"" +
                std::string(type_status.second) + "\"}"] += n;
    }
  }
  // A message answered only with a CEB900 is the client's error: 400, with the receipt.
  const http::status code = only_format_error && any ? http::status::bad_request : http::status::ok;
  Response response = MakeResponse(code, std::move(body), "application/json");
  if (job.minimal) response.set(http::field::preference_applied, "return=minimal");
  return response;
}

Response Api::Feed(const Request& req, const Principal& who, const Reply& reply, bool* deferred) {
  const Target t = ParseTarget(req.message.target());
  auto after = IntParam(t, "after", 0, 0, INT64_MAX / 2);
  auto limit = IntParam(t, "limit", 100, 1, options_.feed_page_limit);
  auto wait = IntParam(t, "wait", 0, 0, options_.max_wait_seconds);
  if (!after.ok()) return Error(after.status());
  if (!limit.ok()) return Error(limit.status());
  if (!wait.ok()) return Error(wait.status());
  StatusOr<std::vector<storage::StoredReceipt>> page = std::vector<storage::StoredReceipt>{};
  if (*after < last_receipt_id_ || *wait == 0) {
    page = DurableFeed(who.enterprise, *after, static_cast<int>(*limit));
  }
  if (!page.ok()) return Error(page.status());
  if (page->empty() && *wait > 0) {
    std::lock_guard<std::mutex> lock(waiters_mu_);
    waiters_.push_back(Waiter{who.enterprise, *after, static_cast<int>(*limit),
                              std::chrono::steady_clock::now() + std::chrono::seconds(*wait),
                              reply});
    has_waiters_.store(true, std::memory_order_relaxed);
    *deferred = true;
    return {};
  }
  return FeedPage(*page, *after);
}

void Api::AfterCommit() {
  // Waking the poller for every commit with nobody waiting was a futex call on this thread and
  // a wake-up of the poller per group commit (bench/README.md). A waiter added meanwhile is
  // seen at the next commit or the poller's timeout, as before when the wake-up found the
  // poller busy.
  if (has_waiters_.load(std::memory_order_relaxed)) waiters_cv_.notify_all();
  webhooks_->Notify();
}

void Api::PollLoop() {
  NameThisThread("kj-poller");
  std::unique_lock<std::mutex> lock(waiters_mu_);
  while (!stopping_) {
    waiters_cv_.wait_for(lock, std::chrono::milliseconds(200));
    if (waiters_.empty()) continue;
    std::vector<Waiter> work;
    work.swap(waiters_);
    lock.unlock();
    std::vector<Waiter> keep;
    const auto now = std::chrono::steady_clock::now();
    for (Waiter& w : work) {
      std::vector<storage::StoredReceipt> page;
      if (w.after < last_receipt_id_) {
        auto got = DurableFeed(w.enterprise, w.after, w.limit);
        if (got.ok()) page = std::move(*got);
      }
      if (page.empty() && now < w.deadline) {
        keep.push_back(std::move(w));
        continue;
      }
      w.reply(FeedPage(page, w.after));
    }
    lock.lock();
    for (Waiter& w : keep) waiters_.push_back(std::move(w));
    has_waiters_.store(!waiters_.empty(), std::memory_order_relaxed);
  }
}

void Api::ReleaseWaiters() {
  std::vector<Waiter> work;
  {
    std::lock_guard<std::mutex> lock(waiters_mu_);
    work.swap(waiters_);
    has_waiters_.store(false, std::memory_order_relaxed);
  }
  for (Waiter& w : work) {
    w.reply(Json(http::status::ok, json::object{{"receipts", json::array{}}, {"next", w.after}}));
  }
}

Response Api::ReceiptsOf(const std::string& guid, const Principal& who) {
  if (guid.empty() || guid.size() > 64)
    return Error(InvalidArgument("give the declaration's guid"));
  StatusOr<std::vector<storage::StoredReceipt>> all = std::vector<storage::StoredReceipt>{};
  {
    std::lock_guard<std::mutex> lock(platform_mu_);
    all = platform_->store().ReceiptsAnswering(guid);
  }
  if (!all.ok()) return Error(all.status());
  json::array items;
  for (const auto& r : *all) {
    if (who.role == Role::kEnterprise && !InAudience(r, who.enterprise)) continue;
    items.push_back(ReceiptJson(r));
  }
  // Not found and not yours look the same: nothing about others' documents leaks.
  if (items.empty()) return Error(NotFound("no receipts for " + guid + " that this key may read"));
  return Json(http::status::ok, json::object{{"guid", guid}, {"receipts", std::move(items)}});
}

Response Api::QuotaQuery(const Request& req) {
  // A token bucket per client address: quota_queries_per_minute, bursts of the same size.
  {
    std::lock_guard<std::mutex> lock(limiter_mu_);
    const int64_t now = options_.clock();
    if (buckets_.size() > 100000) buckets_.clear();  // a bound on memory, not a precise limiter
    auto& [tokens, last] =
        buckets_.try_emplace(req.remote_ip, options_.quota_queries_per_minute, now).first->second;
    tokens = std::min(
        options_.quota_queries_per_minute,
        tokens + static_cast<double>(now - last) * options_.quota_queries_per_minute / 60000.0);
    last = now;
    if (tokens < 1)
      return Error(ResourceExhausted("too many quota queries from this address; wait a minute"));
    tokens -= 1;
  }
  const Target t = ParseTarget(req.message.target());
  auto id = t.query.find("id"), name = t.query.find("name");
  if (id == t.query.end() || name == t.query.end() || name->second.empty()) {
    return Error(InvalidArgument("give id (the 18-digit resident ID) and name (as on the orders)"));
  }
  if (!IsValidResidentId(id->second))
    return Error(InvalidArgument("id is not a valid 18-digit resident ID"));
  auto year = IntParam(t, "year", CstYear(options_.clock()), 2019, 2100);
  if (!year.ok()) return Error(year.status());
  clearance::QuotaView q;
  bool known;
  {
    std::lock_guard<std::mutex> lock(platform_mu_);
    known = platform_->engine().BuyerKnownAs(id->second, name->second);
    q = platform_->Quota(id->second, static_cast<int>(*year));
  }
  // A wrong name gets the answer of a buyer who bought nothing: the query reveals nothing else.
  const Decimal used = known ? q.used : Decimal{};
  const Decimal remaining = known ? q.remaining : q.used + q.remaining;
  return Json(http::status::ok,
              json::object{{"year", *year},
                           {"used", used.ToMoneyString()},
                           {"remaining", remaining.ToMoneyString()},
                           {"annualLimit", (q.used + q.remaining).ToMoneyString()}});
}

Response Api::Held(const Principal&) {
  std::vector<clearance::Engine::HeldList> held;
  {
    std::lock_guard<std::mutex> lock(platform_mu_);
    held = platform_->engine().Held(1000);
  }
  json::array items;
  for (const auto& h : held) {
    items.push_back(json::object{{"invtNo", h.invt_no},
                                 {"guid", h.guid},
                                 {"orderNo", h.order_no},
                                 {"ebpCode", h.ebp_code},
                                 {"ebcCode", h.ebc_code},
                                 {"agentCode", h.agent_code},
                                 {"buyerName", h.buyer_name},
                                 {"status", h.status},
                                 {"reason", h.reason},
                                 {"dutiablePrice", h.dutiable.ToMoneyString()},
                                 {"tax", h.tax.ToMoneyString()},
                                 {"lines", h.line_count},
                                 // The risk rules version and score that held it ("" / 0 if none).
                                 {"riskRulesVersion", h.risk_version},
                                 {"riskScore", h.risk_score},
                                 // The credit grades that set its random-inspection rate.
                                 {"agentGrade", h.agent_grade},
                                 {"ebcGrade", h.ebc_grade}});
  }
  return Json(http::status::ok, json::object{{"held", std::move(items)}});
}

Response Api::HeldDocuments(const std::string& invt_no) {
  if (invt_no.empty() || invt_no.size() > 18) return Error(InvalidArgument("give an invtNo"));
  clearance::Engine::ClearanceDocuments docs;
  {
    std::lock_guard<std::mutex> lock(platform_mu_);
    docs = platform_->engine().DocumentsOf(invt_no);
  }
  if (!docs.inventory) return Error(NotFound("no list " + invt_no));
  // Each document as the standard's XML, as the enterprise declared it (the page lays them out).
  auto xml = [](auto& doc, model::MessageType type) -> json::value {
    if (!doc) return nullptr;
    model::Message m;
    m.type = type;
    m.guid = doc->head.guid;
    m.records.emplace_back(*doc);
    return json::string(codec::Encode(m));
  };
  return Json(http::status::ok,
              json::object{{"invtNo", invt_no},
                           {"inventory", xml(docs.inventory, model::MessageType::kCEB621)},
                           {"order", xml(docs.order, model::MessageType::kCEB311)},
                           {"payment", xml(docs.payment, model::MessageType::kCEB411)},
                           {"waybill", xml(docs.waybill, model::MessageType::kCEB511)}});
}

void Api::LoadWebFiles() {
  if (options_.web_dir.empty()) return;
  std::error_code ec;
  constexpr size_t kMaxFiles = 64, kMaxBytes = 16 << 20;  // the built pages and ECharts: ~1.2 MB
  size_t bytes = 0;
  for (const auto& e : std::filesystem::directory_iterator(options_.web_dir, ec)) {
    std::error_code fe;
    if (!e.is_regular_file(fe) || fe || web_files_.size() >= kMaxFiles) continue;
    const std::string name = e.path().filename().string();
    const std::string ext = e.path().extension().string();
    const char* type = ext == ".html"  ? "text/html; charset=utf-8"
                       : ext == ".js"  ? "text/javascript; charset=utf-8"
                       : ext == ".css" ? "text/css; charset=utf-8"
                       : ext == ".svg" ? "image/svg+xml"
                       : ext == ".png" ? "image/png"
                                       : nullptr;
    const uintmax_t size = e.file_size(fe);
    if (type == nullptr || fe || size > kMaxBytes - bytes) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    bytes += content.size();
    web_files_["/" + name] = {type, std::move(content)};
  }
}

Response Api::Decide(const Request& req, const Principal& who) {
  auto body = JsonBody(req);
  if (!body.ok()) return Error(body.status());
  clearance::OfficerDecision d;
  d.invt_no = Str(*body, "invtNo");
  const std::string action = Str(*body, "action");
  d.reason = Str(*body, "reason");
  d.officer = who.Describe();
  if (action == "release")
    d.action = clearance::OfficerDecision::Action::kRelease;
  else if (action == "reject")
    d.action = clearance::OfficerDecision::Action::kReject;
  else if (action == "inspect")
    d.action = clearance::OfficerDecision::Action::kInspect;
  else
    return Error(InvalidArgument("action must be release, inspect or reject"));
  if (d.invt_no.empty() || d.invt_no.size() > 18) return Error(InvalidArgument("give invtNo"));
  if (d.action != clearance::OfficerDecision::Action::kRelease && d.reason.empty()) {
    return Error(
        InvalidArgument("a rejection or an inspection needs a reason the declarant can act on"));
  }
  StatusOr<app::Answer> answer = Unavailable("not run");
  {
    std::lock_guard<std::mutex> lock(platform_mu_);
    answer = platform_->Decide(d, options_.clock());
    if (answer.ok()) {
      auto last = platform_->store().LastReceiptId();
      if (last.ok()) NoteDurable(*last);  // a synchronous commit: flushed
    }
  }
  if (!answer.ok()) return Error(answer.status());
  (void)accounts_->Audit({0, options_.clock(), who.Describe(), "inventory." + action,
                          d.invt_no + (d.reason.empty() ? "" : ": " + d.reason)});
  AfterCommit();
  json::array items;
  for (const auto& r : answer->receipts) items.push_back(ReceiptJson(r));
  return Json(http::status::ok, json::object{{"receipts", std::move(items)}});
}

// --- credit (docs/CREDIT.md) ---------------------------------------------------------------------

namespace {

json::object CreditSummaryJson(const credit::RecordView& v) {
  return json::object{{"code", v.code},
                      {"grade", credit::GradeName(v.grade)},
                      {"computedGrade", credit::GradeName(v.computed)},
                      {"pinned", v.override_grade.has_value()},
                      {"score", v.score.ToMoneyString()},
                      {"declarations", v.declarations}};
}

}  // namespace

Response Api::CreditEnterprises(const Request& req, const Principal& who) {
  const Target t = ParseTarget(req.message.target());
  auto limit = IntParam(t, "limit", 100, 1, 1000);
  if (!limit.ok()) return Error(limit.status());
  auto a = t.query.find("after");
  const std::string after = a == t.query.end() ? "" : a->second;
  json::array items;
  {
    std::lock_guard<std::mutex> lock(platform_mu_);
    const credit::Book& book = platform_->credit();
    const int64_t now = options_.clock();
    // An enterprise sees its own record only.
    std::vector<std::string> codes = who.role == Role::kEnterprise
                                         ? std::vector<std::string>{who.enterprise}
                                         : book.Enterprises(after, static_cast<size_t>(*limit));
    for (const std::string& code : codes)
      if (auto v = book.View(code, now)) items.push_back(CreditSummaryJson(*v));
  }
  json::object out{{"enterprises", std::move(items)}};
  return Json(http::status::ok, std::move(out));
}

Response Api::CreditEnterprise(const std::string& code, const Principal& who) {
  if (who.role == Role::kEnterprise && code != who.enterprise)
    return Error(NotFound("no credit record of " + code.substr(0, 40) + " that this key may read"));
  std::optional<credit::RecordView> v;
  {
    std::lock_guard<std::mutex> lock(platform_mu_);
    if (platform_->reference().FindEnterprise(code) == nullptr)
      return Error(NotFound("no registered enterprise " + code.substr(0, 40)));
    v = platform_->credit().View(code, options_.clock());
  }
  if (!v) {
    // Registered, nothing recorded yet: a new enterprise is general (B).
    v.emplace();
    v->code = code;
  }
  json::object events;
  for (size_t i = 1; i < credit::kEventKinds; ++i) {
    if (v->counts[i] == 0) continue;
    events[credit::EventName(static_cast<credit::Event>(i))] =
        json::object{{"count", v->counts[i]}, {"points", v->points[i].ToMoneyString()}};
  }
  json::array history;
  for (const auto& c : v->history) {
    history.push_back(json::object{{"at", FormatAppTime(c.at_ms)},
                                   {"from", credit::GradeName(c.from)},
                                   {"to", credit::GradeName(c.to)},
                                   {"score", c.score.ToMoneyString()},
                                   {"cause", c.cause},
                                   {"by", c.by}});
  }
  json::object out = CreditSummaryJson(*v);
  out["meaning"] = credit::GradeMeaning(v->grade);
  out["explanation"] = v->Explain();
  out["events"] = std::move(events);
  if (v->override_grade) {
    out["pin"] = json::object{{"grade", credit::GradeName(*v->override_grade)},
                              {"reason", v->override_reason},
                              {"by", v->override_by},
                              {"at", FormatAppTime(v->override_ms)}};
  }
  out["history"] = std::move(history);
  return Json(http::status::ok, std::move(out));
}

Response Api::CreditBuyers(const Request& req) {
  const Target t = ParseTarget(req.message.target());
  auto limit = IntParam(t, "limit", 100, 1, 1000);
  if (!limit.ok()) return Error(limit.status());
  auto a = t.query.find("after");
  std::vector<credit::DiscreditedBuyer> buyers;
  {
    std::lock_guard<std::mutex> lock(platform_mu_);
    buyers = platform_->credit().Buyers(a == t.query.end() ? "" : a->second,
                                        static_cast<size_t>(*limit));
  }
  json::array items;
  for (const auto& b : buyers) {
    items.push_back(json::object{{"buyerIdNumber", b.buyer_id},
                                 {"buyerName", b.buyer_name},
                                 {"since", FormatAppTime(b.since_ms)},
                                 {"evidence", b.evidence},
                                 {"by", b.by}});
  }
  return Json(http::status::ok, json::object{{"buyers", std::move(items)}});
}

Response Api::CreditCorrect(const Request& req, const Principal& who, const char* kind,
                            const std::string& subject) {
  auto body = JsonBody(req);
  if (!body.ok()) return Error(body.status());
  app::Platform::CreditCorrection c;
  c.subject = subject;
  c.reason = Str(*body, "reason");
  c.officer = who.Describe();
  const std::string k = kind;
  if (k == "grade") {
    c.kind = app::Platform::CreditCorrection::Kind::kGrade;
    // {"grade": "A".."D"} pins the grade; {"grade": null} clears the pin.
    const json::value* g = body->if_contains("grade");
    if (g == nullptr) return Error(InvalidArgument("give grade: A, B, C, D, or null to clear"));
    if (!g->is_null()) {
      c.grade = g->is_string() ? credit::GradeFromName(std::string(g->as_string())) : std::nullopt;
      if (!c.grade) return Error(InvalidArgument("grade must be A, B, C, D or null"));
    }
  } else if (k == "buyer-add") {
    c.kind = app::Platform::CreditCorrection::Kind::kAddBuyer;
    c.buyer_name = Str(*body, "name");
  } else {
    c.kind = app::Platform::CreditCorrection::Kind::kRemoveBuyer;
  }
  Status st = Unavailable("not run");
  {
    std::lock_guard<std::mutex> lock(platform_mu_);
    st = platform_->CorrectCredit(c, options_.clock());
  }
  if (!st.ok()) return Error(st);
  (void)accounts_->Audit(
      {0, options_.clock(), who.Describe(), "credit." + k, app::Platform::EncodeCorrection(c)});
  return Json(http::status::ok, json::object{{"ok", true}});
}

// --- statistics (docs/METRICS.md) ----------------------------------------------------------------

namespace {

json::object TotalsJson(const stats::Aggregates::Totals& t) {
  json::object value;
  for (const auto& [currency, v] : t.value) value[currency] = v.ToMoneyString();
  return json::object{
      {"lists", t.lists}, {"value", std::move(value)}, {"tax", t.tax.ToMoneyString()}};
}

}  // namespace

Response Api::Stats(const Request& req, const char* what) {
  const Target t = ParseTarget(req.message.target());
  auto q = [&](const char* k, const char* fallback) {
    auto it = t.query.find(k);
    return it == t.query.end() || it->second.empty() ? std::string(fallback) : it->second;
  };
  // Days are CST calendar days, inclusive: from=20240601&to=20240630.
  const auto from = ParseDate8(q("from", "")), to = ParseDate8(q("to", ""));
  if (!from || !to || *to < *from) {
    return Error(InvalidArgument("give from and to as yyyyMMdd, from <= to (CST days, inclusive)"));
  }
  const int64_t from_day = stats::DayOf(*from), to_day = stats::DayOf(*to);
  if (to_day - from_day >= 3660) return Error(InvalidArgument("at most 3660 days (ten years)"));
  const std::string direction = q("direction", "import");
  if (direction != "import" && direction != "export")
    return Error(InvalidArgument("direction is import or export"));
  const auto dir = direction == "import" ? stats::Direction::kImport : stats::Direction::kExport;
  const std::string mode = q("tradeMode", "");
  const std::string w = what;
  std::lock_guard<std::mutex> lock(platform_mu_);
  const stats::Aggregates& a = platform_->stats();
  if (w == "summary") {
    json::object out{{"from", q("from", "")}, {"to", q("to", "")}};
    for (const auto d : {stats::Direction::kImport, stats::Direction::kExport}) {
      const stats::Aggregates::Summary sum = a.Summarize(d, from_day, to_day);
      json::object o = TotalsJson(sum.all);
      o["activeEnterprises"] = sum.active_enterprises;
      json::object modes;
      for (const auto& [m, mt] : sum.by_mode) modes[m] = TotalsJson(mt);
      o["byTradeMode"] = std::move(modes);
      // Growth against the period of the same length just before, and the same days a year
      // earlier (docs/METRICS.md): lists and value per currency, percent to 0.1, null if the base
      // is zero.
      const int64_t len = to_day - from_day + 1;
      auto growth = [&](int64_t base_from, int64_t base_to) {
        const stats::Aggregates::Totals base = a.Total(d, base_from, base_to);
        auto pct = [](Decimal now, Decimal was) -> json::value {
          auto g = stats::GrowthPercent(now, was);
          return g ? json::value(g->ToString()) : json::value(nullptr);
        };
        json::object value;
        for (const auto& [currency, v] : sum.all.value) {
          auto b = base.value.find(currency);
          value[currency] = pct(v, b == base.value.end() ? Decimal{} : b->second);
        }
        return json::object{
            {"lists", pct(Decimal::FromUnits(sum.all.lists), Decimal::FromUnits(base.lists))},
            {"value", std::move(value)},
            {"base", TotalsJson(base)}};
      };
      // Whole months compare with as many whole months before (June with May, not with the 30
      // days before June); other periods with the same number of days before.
      int64_t prev_from = from_day - len;
      const CivilDate first = CivilFromDays(from_day), after = CivilFromDays(to_day + 1);
      if (first.d == 1 && after.d == 1) {
        const int64_t fm = first.y * 12 + first.m - 1, nm = after.y * 12 + after.m - 1;
        const int64_t pm = fm - (nm - fm);
        prev_from = DaysFromCivil(pm / 12, static_cast<unsigned>(pm % 12 + 1), 1);
      }
      o["vsPreviousPeriod"] = growth(prev_from, from_day - 1);
      o["vsLastYear"] = growth(stats::SameDayLastYear(from_day), stats::SameDayLastYear(to_day));
      out[d == stats::Direction::kImport ? "import" : "export"] = std::move(o);
    }
    return Json(http::status::ok, std::move(out));
  }
  if (w == "series") {
    const std::string g = q("granularity", "day");
    if (g != "day" && g != "month") return Error(InvalidArgument("granularity is day or month"));
    if (g == "day" && to_day - from_day >= 400)
      return Error(InvalidArgument("at most 400 days per daily series: ask for months"));
    json::array points;
    for (const auto& [k, tot] : a.Series(dir, from_day, to_day, g == "month", mode)) {
      json::object p = TotalsJson(tot);
      p["period"] =
          g == "month" ? std::to_string(k) : FormatDate8(k * kMillisPerDay - 8 * 3'600'000);
      points.push_back(std::move(p));
    }
    return Json(
        http::status::ok,
        json::object{{"direction", direction}, {"granularity", g}, {"points", std::move(points)}});
  }
  if (w == "distributions") {
    // Imports' clearance time by release day, every refusal by the day it was answered, and the
    // buyers' use of the annual amount in the calendar year of `to` (docs/METRICS.md).
    json::array clearance;
    const auto hist = a.ClearanceHistogram(from_day, to_day);
    for (size_t i = 0; i < hist.size(); ++i) {
      json::object b{{"lists", hist[i]}};
      if (i < stats::kClearanceBoundsSeconds.size())
        b["underSeconds"] = stats::kClearanceBoundsSeconds[i];
      clearance.push_back(std::move(b));
    }
    // Percentiles as the upper edge of the bucket they fall in (null: above the last edge).
    int64_t timed = 0;
    for (int64_t n : hist) timed += n;
    json::object percentiles;
    for (const auto& [name, pct] : {std::pair{"p50", 50}, {"p90", 90}, {"p99", 99}}) {
      if (timed == 0) continue;
      const int64_t rank = (timed * pct + 99) / 100;  // the rank-th fastest list, 1-based
      int64_t seen = 0;
      size_t i = 0;
      while (i < hist.size() && seen + hist[i] < rank) seen += hist[i++];
      percentiles[name] = i < stats::kClearanceBoundsSeconds.size()
                              ? json::value(stats::kClearanceBoundsSeconds[i])
                              : json::value(nullptr);
    }
    auto limit = IntParam(t, "limit", 20, 1, 100);
    if (!limit.ok()) return Error(limit.status());
    const auto refusals = a.Refusals(from_day, to_day);
    json::array reasons;
    int64_t refused = 0;
    for (const auto& r : refusals) {
      refused += r.count;
      if (reasons.size() < static_cast<size_t>(*limit))
        reasons.push_back(json::object{
            {"receiptType", r.receipt_type}, {"status", r.status}, {"count", r.count}});
    }
    const int year = CivilFromDays(to_day).y;
    json::array quota;
    const auto qd = a.QuotaDistribution(year);
    for (size_t i = 0; i < qd.size(); ++i) {
      json::object b{{"buyers", qd[i]}};
      if (i < stats::kQuotaBoundsYuan.size()) b["underYuan"] = stats::kQuotaBoundsYuan[i];
      quota.push_back(std::move(b));
    }
    return Json(
        http::status::ok,
        json::object{{"from", q("from", "")},
                     {"to", q("to", "")},
                     {"clearanceTime", std::move(clearance)},
                     {"clearanceTimeUnderSeconds", std::move(percentiles)},
                     {"refusals", json::object{{"total", refused},
                                               {"kinds", refusals.size()},
                                               {"top", std::move(reasons)}}},
                     {"quota", json::object{{"year", year}, {"buckets", std::move(quota)}}}});
  }
  const std::string by = q("by", "enterprise");
  if (by != "enterprise" && by != "tradeMode" && by != "country" && by != "chapter")
    return Error(InvalidArgument("by is enterprise, tradeMode, country or chapter"));
  auto limit = IntParam(t, "limit", 20, 1, 100);
  if (!limit.ok()) return Error(limit.status());
  auto offset = IntParam(t, "offset", 0, 0, 1'000'000);
  if (!offset.ok()) return Error(offset.status());
  const std::string currency = q("currency", "142");
  const auto rows = a.Rank(by, dir, from_day, to_day, currency);
  json::array items;
  for (size_t i = static_cast<size_t>(*offset);
       i < rows.size() && items.size() < static_cast<size_t>(*limit); ++i) {
    json::object r{{"rank", i + 1}, {"key", rows[i].key}, {"value", rows[i].value.ToMoneyString()}};
    if (by == "enterprise" || by == "tradeMode") r["lists"] = rows[i].lists;
    items.push_back(std::move(r));
  }
  const size_t next = static_cast<size_t>(*offset) + items.size();
  json::object out{
      {"by", by}, {"currency", currency}, {"total", rows.size()}, {"rows", std::move(items)}};
  if (next < rows.size()) out["nextOffset"] = next;
  return Json(http::status::ok, std::move(out));
}

// --- export: summaries, deadlines, ledger --------------------------------------------------------

namespace {

json::object DeclarationJson(const clearance::SummaryDeclaration& d) {
  json::array lines;
  for (const auto& l : d.lines) {
    lines.push_back(json::object{{"gseqno", l.gseqno},
                                 {"gcode", l.gcode},
                                 {"name", l.name},
                                 {"country", l.country},
                                 {"currency", l.currency},
                                 {"unit", l.unit},
                                 {"qty", l.qty.ToString()},
                                 {"unit1", l.unit1},
                                 {"qty1", l.qty1.ToString()},
                                 {"unit2", l.unit2},
                                 {"qty2", l.qty2.ToString()},
                                 {"amount", l.amount.ToMoneyString()},
                                 {"listLines", l.sources.size()}});
  }
  json::array lists;
  for (const auto& i : d.invt_nos) lists.push_back(json::string(i));
  return json::object{{"ebcCode", d.ebc_code},
                      {"ownerCode", d.owner_code},
                      {"tradeMode", d.trade_mode},
                      {"trafMode", d.traf_mode},
                      {"country", d.country},
                      {"portCode", d.port_code},
                      {"grossWeight", d.gross_weight.ToString()},
                      {"netWeight", d.net_weight.ToString()},
                      {"packNo", d.pack_no},
                      {"lines", std::move(lines)},
                      {"invtNos", std::move(lists)}};
}

}  // namespace

Response Api::ExportSummaries(const Request& req, const Principal& who) {
  auto limit = IntParam(ParseTarget(req.message.target()), "limit", 20, 1, 200);
  if (!limit.ok()) return Error(limit.status());
  std::vector<clearance::StoredSummary> sums;
  {
    std::lock_guard<std::mutex> lock(platform_mu_);
    sums = platform_->export_engine().Summaries(who.role == Role::kEnterprise ? who.enterprise : "",
                                                static_cast<size_t>(*limit));
  }
  json::array items;
  for (const auto& s : sums) {
    json::array decls;
    for (const auto& d : s.declarations) decls.push_back(DeclarationJson(d));
    items.push_back(json::object{{"sumNo", s.sum_no},
                                 {"guid", s.guid},
                                 {"agentCode", s.agent_code},
                                 {"ebcCode", s.ebc_code},
                                 {"declAgentCode", s.decl_agent_code},
                                 {"time", FormatAppTime(s.at_ms)},
                                 {"declarations", std::move(decls)}});
  }
  return Json(http::status::ok, json::object{{"summaries", std::move(items)}});
}

Response Api::ExportSummaryRun(const Request& req, const Principal& who) {
  auto body = JsonBody(req);
  if (!body.ok()) return Error(body.status());
  auto range = app::MonthRange(Str(*body, "month"));
  if (!range.ok()) return Error(range.status());
  app::Platform::SummaryRun run;
  const std::string day = FormatDate8(range->first);
  run.year = std::stoi(day.substr(0, 4));
  run.month = std::stoi(day.substr(4, 2));
  if (!Str(*body, "summaryFlag").empty()) run.summary_flag = Str(*body, "summaryFlag");
  if (run.summary_flag != "1" && run.summary_flag != "2")
    return Error(InvalidArgument("summaryFlag is 1 (per consignor) or 2 (and per producer)"));
  StatusOr<std::vector<app::Answer>> answers = Unavailable("not run");
  {
    std::lock_guard<std::mutex> lock(platform_mu_);
    answers = platform_->SummarizeMonth(run, options_.clock());
    if (answers.ok()) {
      auto last = platform_->store().LastReceiptId();
      if (last.ok()) NoteDurable(*last);  // a synchronous commit: flushed
    }
  }
  if (!answers.ok()) return Error(answers.status());
  (void)accounts_->Audit(
      {0, options_.clock(), who.Describe(), "export.summarize",
       Str(*body, "month") + ": " + std::to_string(answers->size()) + " summary application(s)"});
  AfterCommit();
  json::array items;
  for (const auto& a : *answers)
    for (const auto& r : a.receipts) items.push_back(ReceiptJson(r));
  return Json(http::status::ok,
              json::object{{"applications", answers->size()}, {"receipts", std::move(items)}});
}

Response Api::ExportDues(const Principal& who) {
  std::vector<clearance::SummaryDue> dues;
  {
    std::lock_guard<std::mutex> lock(platform_mu_);
    dues = platform_->export_engine().Dues(options_.clock(), 1000);
  }
  json::array items;
  for (const auto& d : dues) {
    if (who.role == Role::kEnterprise && d.agent_code != who.enterprise &&
        d.ebc_code != who.enterprise)
      continue;
    char month[16];
    std::snprintf(month, sizeof month, "%04d-%02d", d.year % 10000, d.month % 100);
    items.push_back(json::object{{"month", month},
                                 {"agentCode", d.agent_code},
                                 {"ebcCode", d.ebc_code},
                                 {"closedLists", d.closed},
                                 {"summarised", d.summarised},
                                 {"deadline", FormatAppTime(d.deadline_ms - 1000)},
                                 {"late", d.late}});
  }
  return Json(http::status::ok, json::object{{"dues", std::move(items)}});
}

Response Api::ExportLedger(const Request& req, const Principal& who) {
  const Target t = ParseTarget(req.message.target());
  auto q = [&](const char* k) {
    auto it = t.query.find(k);
    return it == t.query.end() ? std::string() : it->second;
  };
  std::string ebc = q("ebcCode");
  if (who.role == Role::kEnterprise) {
    if (!ebc.empty() && ebc != who.enterprise)
      return Error(PermissionDenied("an enterprise reads its own ledger only"));
    ebc = who.enterprise;
  }
  if (ebc.empty()) return Error(InvalidArgument("give ebcCode"));
  auto range = app::MonthRange(q("month"));
  if (!range.ok()) return Error(range.status());
  std::vector<clearance::LedgerRow> rows;
  {
    std::lock_guard<std::mutex> lock(platform_mu_);
    rows = platform_->export_engine().Ledger(ebc, range->first, range->second);
  }
  Response r = MakeResponse(http::status::ok, app::LedgerCsv(rows), "text/csv; charset=utf-8");
  r.set(http::field::content_disposition,
        "attachment; filename=\"ledger-" + ebc + "-" + q("month") + ".csv\"");
  return r;
}

Response Api::CreateKey(const Request& req, const Principal& who) {
  auto body = JsonBody(req);
  if (!body.ok()) return Error(body.status());
  Role role;
  if (!ParseRole(Str(*body, "role"), &role))
    return Error(InvalidArgument("role must be enterprise, officer or admin"));
  const std::string enterprise = Str(*body, "enterprise");
  if (role == Role::kEnterprise) {
    std::lock_guard<std::mutex> lock(platform_mu_);
    if (platform_->reference().FindEnterprise(enterprise) == nullptr) {
      return Error(
          InvalidArgument("enterprise " + enterprise + " is not registered with the zone"));
    }
  } else if (!enterprise.empty()) {
    return Error(InvalidArgument("officer and admin keys act for no enterprise"));
  }
  auto key = MakeKey(role, enterprise, options_.clock());
  if (!key.ok()) return Error(key.status());
  Status st = accounts_->CreateKey(key->stored,
                                   {0, options_.clock(), who.Describe(), "key.create",
                                    key->stored.id + " " + key->stored.role + " " + enterprise});
  if (!st.ok()) return Error(st);
  return Json(http::status::created, json::object{{"id", key->stored.id},
                                                  {"key", key->token},
                                                  {"role", key->stored.role},
                                                  {"enterprise", enterprise}});
}

Response Api::RevokeKey(const std::string& id, const Principal& who) {
  Status st = accounts_->RevokeKey(id, {0, options_.clock(), who.Describe(), "key.revoke", id});
  if (!st.ok()) return Error(st);
  return Json(http::status::ok, json::object{{"id", id}, {"revoked", true}});
}

Response Api::ListKeys() {
  auto keys = accounts_->Keys();
  if (!keys.ok()) return Error(keys.status());
  json::array items;
  for (const auto& k : *keys) {
    items.push_back(json::object{{"id", k.id},
                                 {"role", k.role},
                                 {"enterprise", k.enterprise},
                                 {"created", FormatAppTime(k.created_ms)},
                                 {"revoked", k.revoked_ms ? FormatAppTime(k.revoked_ms) : ""}});
  }
  return Json(http::status::ok, json::object{{"keys", std::move(items)}});
}

Response Api::AuditLog(const Request& req) {
  auto after = IntParam(ParseTarget(req.message.target()), "after", 0, 0, INT64_MAX / 2);
  if (!after.ok()) return Error(after.status());
  auto log = accounts_->AuditLog(*after, 500);
  if (!log.ok()) return Error(log.status());
  json::array items;
  for (const auto& e : *log) {
    items.push_back(json::object{{"id", e.id},
                                 {"at", FormatAppTime(e.at_ms)},
                                 {"who", e.who},
                                 {"what", e.what},
                                 {"detail", e.detail}});
  }
  return Json(http::status::ok, json::object{{"entries", std::move(items)}});
}

// Registration (备案) of enterprises and positive-list lines: GET lists, PUT .../{key} adds or
// replaces, DELETE .../{key} removes. Each change is stored, audited, and applied at once.
Response Api::Registry(const Request& req, const Principal& who, const std::string& path) {
  const bool enterprises = path.rfind("/api/v1/admin/enterprises", 0) == 0;
  const std::string base = enterprises ? "/api/v1/admin/enterprises" : "/api/v1/admin/goods";
  const std::string key = path.size() > base.size() + 1 ? path.substr(base.size() + 1) : "";
  const auto method = req.message.method();
  if (method == http::verb::get && key.empty()) {
    json::array items;
    std::lock_guard<std::mutex> lock(platform_mu_);
    if (enterprises) {
      for (const auto* e : platform_->reference().Enterprises()) {
        json::array roles;
        for (auto r : {reference::kEbp, reference::kEbc, reference::kAgent, reference::kLogistics,
                       reference::kPay, reference::kWarehouse}) {
          if (e->Has(r)) roles.push_back(json::string(reference::RoleName(r)));
        }
        items.push_back(json::object{{"code", e->code},
                                     {"name", e->name},
                                     {"roles", std::move(roles)},
                                     {"buyerIdentityVerified", e->buyer_identity_verified}});
      }
    } else {
      for (const auto* g : platform_->reference().Goods()) {
        items.push_back(json::object{{"hs8", g->hs8},
                                     {"name", g->name},
                                     {"vatRate", g->vat_rate.ToString()},
                                     {"consumptionTaxRate", g->consumption_tax_rate.ToString()},
                                     {"dutyRate", g->duty_rate.ToString()}});
      }
    }
    return Json(http::status::ok,
                json::object{{enterprises ? "enterprises" : "goods", std::move(items)}});
  }
  if (key.empty() || key.size() > 18)
    return Error(InvalidArgument("name the " + std::string(enterprises ? "code" : "hs8")));
  storage::ReferenceChange change{0, enterprises ? "enterprise" : "goods", key, ""};
  if (method == http::verb::put) {
    auto body = JsonBody(req);
    if (!body.ok()) return Error(body.status());
    auto clean = [](const std::string& s) {
      return s.find_first_of("\t\n\r") == std::string::npos;
    };
    const std::string name = Str(*body, "name");
    if (!clean(name)) return Error(InvalidArgument("name must be one line"));
    reference::ReferenceData probe;  // validates like the loader, before anything is stored
    Status valid;
    if (enterprises) {
      std::string roles;
      if (auto it = body->find("roles"); it != body->end() && it->value().is_array()) {
        for (const auto& r : it->value().as_array()) {
          if (!r.is_string()) return Error(InvalidArgument("roles are strings"));
          roles += (roles.empty() ? "" : "|") + std::string(r.as_string());
        }
      }
      reference::Enterprise e{key, name, 0, false};
      if (auto it = body->find("buyerIdentityVerified");
          it != body->end() && it->value().is_bool()) {
        e.buyer_identity_verified = it->value().as_bool();
      }
      if (!reference::ReferenceData::ParseRoles(roles, &e.roles)) {
        return Error(InvalidArgument("roles are among ebp, ebc, agent, logistics, pay, warehouse"));
      }
      valid = probe.PutEnterprise(e);
      change.value = name + "\t" + roles + "\t" + (e.buyer_identity_verified ? "1" : "0");
    } else {
      auto rate = [&](const char* f) { return Decimal::Parse(Str(*body, f)); };
      auto vat = rate("vatRate"), ct = rate("consumptionTaxRate"), duty = rate("dutyRate");
      if (!vat || !ct || !duty) {
        return Error(InvalidArgument(
            "vatRate, consumptionTaxRate and dutyRate are decimal strings such as \"0.13\""));
      }
      valid = probe.PutGoods(reference::GoodsLine{key, name, *vat, *ct, *duty});
      change.value =
          name + "\t" + vat->ToString() + "\t" + ct->ToString() + "\t" + duty->ToString();
    }
    if (!valid.ok()) return Error(valid);
  } else if (method != http::verb::delete_) {
    return Error(NotFound("use GET, PUT or DELETE"));
  }
  Status st = accounts_->AddReferenceChange(
      change, {0, options_.clock(), who.Describe(),
               change.kind + (change.value.empty() ? ".delete" : ".put"),
               key + (change.value.empty() ? "" : " " + change.value)});
  if (!st.ok()) return Error(st);
  {
    std::lock_guard<std::mutex> lock(platform_mu_);
    st = ApplyChange(change, platform_->mutable_reference());
  }
  if (!st.ok()) return Error(st);
  return Json(http::status::ok, json::object{{"key", key}, {"deleted", change.value.empty()}});
}

Response Api::PutWebhook(const Request& req, const Principal& who) {
  auto body = JsonBody(req);
  if (!body.ok()) return Error(body.status());
  const std::string url = Str(*body, "url");
  Status st = WebhookDeliverer::CheckUrl(url);
  if (!st.ok()) return Error(st);
  auto secret = RandomHex(32);
  if (!secret.ok()) return Error(secret.status());
  // A new webhook starts with the receipts that come from now on; the feed holds the earlier ones.
  storage::Webhook hook{who.enterprise, url, *secret, last_receipt_id_.load(), 0, 0, ""};
  st = accounts_->PutWebhook(hook, {0, options_.clock(), who.Describe(), "webhook.put", url});
  if (!st.ok()) return Error(st);
  webhooks_->WebhooksChanged();
  return Json(http::status::ok,
              json::object{{"url", url},
                           {"secret", *secret},
                           {"signature", "X-Kuajing-Signature: sha256=HMAC-SHA256(secret, body)"}});
}

Response Api::GetWebhook(const Principal& who) {
  auto hooks = accounts_->Webhooks();
  if (!hooks.ok()) return Error(hooks.status());
  for (const auto& h : *hooks) {
    if (h.enterprise != who.enterprise) continue;
    return Json(
        http::status::ok,
        json::object{{"url", h.url},
                     {"deliveredThrough", h.cursor},
                     {"failedAttempts", h.attempts},
                     {"nextAttempt", h.next_attempt_ms ? FormatAppTime(h.next_attempt_ms) : ""},
                     {"lastError", h.last_error}});
  }
  return Error(NotFound("no webhook registered; PUT /api/v1/webhook with {\"url\": ...}"));
}

Response Api::DeleteWebhook(const Principal& who) {
  Status st = accounts_->DeleteWebhook(who.enterprise,
                                       {0, options_.clock(), who.Describe(), "webhook.delete", ""});
  if (!st.ok()) return Error(st);
  webhooks_->WebhooksChanged();
  return Json(http::status::ok, json::object{{"deleted", true}});
}

Response Api::DeadLetters(const Request& req, const Principal& who) {
  auto after = IntParam(ParseTarget(req.message.target()), "after", 0, 0, INT64_MAX / 2);
  if (!after.ok()) return Error(after.status());
  auto letters = accounts_->DeadLetters(who.enterprise, *after, 500);
  if (!letters.ok()) return Error(letters.status());
  json::array items;
  for (const auto& d : *letters) {
    items.push_back(json::object{{"id", d.id},
                                 {"receiptId", d.receipt_id},
                                 {"attempts", d.attempts},
                                 {"lastError", d.last_error},
                                 {"at", FormatAppTime(d.at_ms)}});
  }
  return Json(http::status::ok, json::object{{"deadLetters", std::move(items)}});
}

Response Api::StatusPage(bool metrics) {
  clearance::Engine::Counts c;
  clearance::ExportEngine::Counts x;
  int64_t messages = 0;
  storage::Store::Backlog backlog;
  storage::Store::Timings timings;  // histograms the store owns: read without platform_mu_
  std::array<int64_t, 4> grades{};  // enterprises with a credit record, by grade in force
  size_t discredited = 0;
  {
    std::lock_guard<std::mutex> lock(platform_mu_);
    c = platform_->engine().counts();
    x = platform_->export_engine().counts(options_.clock());
    const credit::Book& book = platform_->credit();
    for (const std::string& code : book.Enterprises("", SIZE_MAX))
      if (auto v = book.View(code, options_.clock())) ++grades[static_cast<size_t>(v->grade)];
    discredited = book.buyer_count();
    auto m = platform_->store().MessageCount();
    messages = m.ok() ? *m : -1;
    backlog = platform_->store().Unprojected();
    timings = platform_->store().timings();
  }
  size_t waiting;
  {
    std::lock_guard<std::mutex> lock(waiters_mu_);
    waiting = waiters_.size();
  }
  if (!metrics) {
    return Json(
        http::status::ok,
        json::object{
            {"status", "ok"},
            {"uptimeSeconds", (options_.clock() - started_ms_) / 1000},
            {"messages", messages},
            {"lastReceiptId", last_receipt_id_.load()},
            {"inventories",
             json::object{{"waiting", c.waiting}, {"held", c.held}, {"released", c.released}}},
            {"exportLists", json::object{{"waiting", x.waiting},
                                         {"concluded", x.concluded},
                                         {"released", x.released},
                                         {"closed", x.closed}}},
            {"exportSummaries", x.summaries},
            // Months whose summary declarations are overdue (a warning).
            {"exportSummariesLate", x.late_months},
            {"creditGrades",
             json::object{{"A", grades[0]}, {"B", grades[1]}, {"C", grades[2]}, {"D", grades[3]}}},
            {"discreditedBuyers", discredited},
            {"longPolls", waiting}});
  }
  std::ostringstream m;
  m << "# HELP kuajing_messages_stored Messages in the store.\n# TYPE kuajing_messages_stored "
       "gauge\n"
    << "kuajing_messages_stored " << messages << "\n"
    << "# HELP kuajing_journal_unprojected_bytes Journal frames acknowledged but not yet written "
       "into the SQL store (the writer waits at 64 MiB).\n# TYPE kuajing_journal_unprojected_bytes "
       "gauge\nkuajing_journal_unprojected_bytes "
    << backlog.bytes << "\n# TYPE kuajing_journal_unprojected_frames gauge\n"
    << "kuajing_journal_unprojected_frames " << backlog.frames << "\n"
    << "# HELP kuajing_inventories Inventory lists by state.\n# TYPE kuajing_inventories gauge\n"
    << "kuajing_inventories{state=\"waiting\"} " << c.waiting << "\n"
    << "kuajing_inventories{state=\"held\"} " << c.held << "\n"
    << "kuajing_inventories{state=\"released\"} " << c.released << "\n"
    << "# HELP kuajing_clearances_in_store_only Settled and rejected import clearances kept out of "
       "memory "
       "(read back from the store when a document names them).\n# TYPE "
       "kuajing_clearances_in_store_only gauge\nkuajing_clearances_in_store_only "
    << c.in_store_only << "\n"
    << "# HELP kuajing_export_lists Export lists by state.\n# TYPE kuajing_export_lists gauge\n"
    << "kuajing_export_lists{state=\"waiting\"} " << x.waiting << "\n"
    << "kuajing_export_lists{state=\"concluded\"} " << x.concluded << "\n"
    << "kuajing_export_lists{state=\"released\"} " << x.released << "\n"
    << "kuajing_export_lists{state=\"closed\"} " << x.closed << "\n"
    << "# HELP kuajing_export_summaries_late Months, per agent and consignor, whose summary "
       "declaration is past its deadline.\n# TYPE kuajing_export_summaries_late gauge\n"
    << "kuajing_export_summaries_late " << x.late_months << "\n"
    << "# HELP kuajing_credit_enterprises Enterprises with a credit record, by grade in force.\n"
    << "# TYPE kuajing_credit_enterprises gauge\n";
  for (size_t g = 0; g < grades.size(); ++g) {
    m << "kuajing_credit_enterprises{grade=\"" << credit::GradeName(static_cast<credit::Grade>(g))
      << "\"} " << grades[g] << "\n";
  }
  m << "# HELP kuajing_discredited_buyers Buyers on the discredited list.\n"
    << "# TYPE kuajing_discredited_buyers gauge\nkuajing_discredited_buyers " << discredited << "\n"
    << "# HELP kuajing_long_polls Feed requests waiting for receipts.\n# TYPE kuajing_long_polls "
       "gauge\n"
    << "kuajing_long_polls " << waiting << "\n";
  if (options_.server != nullptr) {
    const ServerCounters& s = options_.server->counters();
    m << "# TYPE kuajing_connections_open gauge\nkuajing_connections_open " << s.connections_open
      << "\n"
      << "# TYPE kuajing_connections_refused_total counter\nkuajing_connections_refused_total "
      << s.connections_refused << "\n"
      << "# TYPE kuajing_requests_too_large_total counter\nkuajing_requests_too_large_total "
      << s.requests_too_large << "\n";
  }
  m << "# HELP kuajing_webhook_deliveries_total Receipts delivered to webhooks.\n"
       "# TYPE kuajing_webhook_deliveries_total counter\nkuajing_webhook_deliveries_total "
    << webhooks_->delivered() << "\n# TYPE kuajing_webhook_failed_attempts_total counter\n"
    << "kuajing_webhook_failed_attempts_total " << webhooks_->failed_attempts()
    << "\n# TYPE kuajing_webhook_dead_letters_total counter\nkuajing_webhook_dead_letters_total "
    << webhooks_->dead_letters() << "\n";
  std::lock_guard<std::mutex> lock(metrics_mu_);
  m << "# HELP kuajing_http_responses_total Responses by HTTP status.\n# TYPE "
       "kuajing_http_responses_total counter\n";
  for (size_t code = 0; code < responses_.size(); ++code) {
    const uint64_t v = responses_[code].load(std::memory_order_relaxed);
    if (v != 0) m << "kuajing_http_responses_total{code=\"" << code << "\"} " << v << "\n";
  }
  for (const auto& [k, v] : counters_) {
    if (k.rfind("kuajing_http", 0) == 0) m << k << " " << v << "\n";
  }
  m << "# HELP kuajing_receipts_total Receipts answered at intake, by type and status.\n"
       "# TYPE kuajing_receipts_total counter\n";
  for (const auto& [k, v] : counters_) {
    if (k.rfind("kuajing_receipts", 0) == 0) m << k << " " << v << "\n";
  }
  std::string h;
  intake_latency_.AppendPrometheus(h, "kuajing_intake_seconds",
                                   "Time from a message's arrival to its durable receipts.");
  // Where that time can go, for an operator who sees it grow (docs/API.md).
  const std::pair<const DurationHistogram*, std::array<const char*, 2>> store_timings[] = {
      {timings.journal_sync,
       {"kuajing_journal_sync_seconds",
        "Each flush (fdatasync) of the journal; every answer waits for one."}},
      {timings.journal_rollover,
       {"kuajing_journal_rollover_seconds",
        "Each change of journal segment (the full one cut and flushed); commits wait for it."}},
      {timings.room_wait,
       {"kuajing_journal_room_wait_seconds",
        "Each time a commit waited because 64 MiB of the journal were not yet in SQLite."}},
      {timings.projection,
       {"kuajing_projection_seconds", "Each transaction writing journal frames into SQLite."}},
      {timings.checkpoint,
       {"kuajing_sqlite_checkpoint_seconds",
        "Each checkpoint that copied SQLite's log into the database file, its sync included."}},
  };
  for (const auto& [histogram, text] : store_timings)
    if (histogram != nullptr) histogram->AppendPrometheus(h, text[0], text[1]);
  m << h;
  return MakeResponse(http::status::ok, m.str(), "text/plain; version=0.0.4");
}

}  // namespace kuajing::server
