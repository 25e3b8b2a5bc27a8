#include "server/http_server.h"

#include <gtest/gtest.h>

#include <sstream>

namespace kuajing::server {
namespace {

// What Beast's serializer writes for the whole response.
std::string BeastBytes(const Response& r) {
  std::ostringstream os;
  os << r;
  return os.str();
}

// The server writes a response's head itself and the body after it (Session::Write): the same
// bytes as Beast's serializer, for every kind of answer it gives.
TEST(HttpServer, WritesTheHeadAsBeastDoes) {
  std::vector<Response> cases;
  cases.push_back(MakeResponse(http::status::ok, "{\"a\":1}\n", "application/json"));
  cases.push_back(MakeResponse(http::status::ok, "", "text/plain"));
  cases.push_back(MakeResponse(http::status::not_found, "{}", "application/json", 11, false));
  cases.push_back(MakeResponse(http::status::payload_too_large, "x", "application/json", 10));
  cases.push_back(MakeResponse(http::status::ok, "keep", "text/plain", 10, true));
  cases.push_back(MakeResponse(http::status::service_unavailable, "busy", "application/json"));
  cases.back().set(http::field::retry_after, "1");
  cases.push_back(MakeResponse(http::status::accepted, std::string(70000, 'z'), "text/csv"));
  cases.back().set("X-Kuajing-Note", "汉字 and spaces");
  Response odd{static_cast<http::status>(299), 11};  // a status Beast has no reason for
  odd.body() = "odd";
  odd.prepare_payload();
  cases.push_back(odd);
  for (const Response& r : cases) {
    std::string ours;
    AppendResponseHead(ours, r);
    EXPECT_EQ(ours + r.body(), BeastBytes(r));
  }
}

}  // namespace
}  // namespace kuajing::server
