#include "server/serve.h"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "app/commands.h"
#include "common/line_writer.h"
#include "server/api.h"
#include "server/auth.h"
#include "server/http_server.h"
#include "storage/accounts.h"

namespace kuajing::server {

namespace {

namespace fs = std::filesystem;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Writes keys to a file only the operator can read.
Status WriteSecret(const fs::path& path, const std::string& text) {
  {
    std::ofstream out(path, std::ios::app);
    out << text;
    if (!out) return Unavailable("cannot write " + path.string());
  }
  ::chmod(path.c_str(), 0600);
  return Status::Ok();
}

// On first start: an admin key (and with --demo-keys an officer key and one per registered
// enterprise), shown once and kept in DATA/keys.txt (mode 0600).
Status BootstrapKeys(storage::AccountStore& accounts, const reference::ReferenceData& ref,
                     const std::vector<std::string>& enterprises, bool demo, const fs::path& data) {
  auto keys = accounts.Keys();
  if (!keys.ok()) return keys.status();
  if (!keys->empty()) return Status::Ok();
  std::string text =
      "# kuajing API keys made on first start; each is shown once. Keep this file secret.\n";
  auto make = [&](Role role, const std::string& enterprise) -> Status {
    auto k = MakeKey(role, enterprise, NowMs());
    if (!k.ok()) return k.status();
    KJ_RETURN_IF_ERROR(
        accounts.CreateKey(k->stored, {0, NowMs(), "serve", "key.create",
                                       k->stored.id + " " + k->stored.role + " " + enterprise}));
    text += std::string(RoleName(role)) + (enterprise.empty() ? "" : " " + enterprise) + " " +
            k->token + "\n";
    return Status::Ok();
  };
  KJ_RETURN_IF_ERROR(make(Role::kAdmin, ""));
  if (demo) {
    KJ_RETURN_IF_ERROR(make(Role::kOfficer, ""));
    for (const std::string& code : enterprises) {
      if (ref.FindEnterprise(code) != nullptr) KJ_RETURN_IF_ERROR(make(Role::kEnterprise, code));
    }
  }
  KJ_RETURN_IF_ERROR(WriteSecret(data / "keys.txt", text));
  std::cout << text;
  return Status::Ok();
}

}  // namespace

int RunServe(const std::vector<std::string>& args) {
  app::Args a = app::ParseArgs(args, 2);
  if (!a.error.empty() || !a.opts.count("--data")) {
    std::cerr << (a.error.empty() ? "serve needs --data DIR" : a.error) << "\n" << app::kUsage;
    return 2;
  }
  const std::string data = a.opts.at("--data");
  app::ServiceSettings settings;
  auto options = app::OptionsFrom(a, data, &settings);
  if (!options.ok()) {
    std::cerr << options.status().message() << "\n";
    return 2;
  }
  if (a.opts.count("--listen")) settings.listen = a.opts.at("--listen");
  if (a.opts.count("--threads")) {
    Status st = app::ApplySetting("server.threads=" + a.opts.at("--threads"), &*options, &settings);
    if (!st.ok()) {
      std::cerr << st.message() << "\n";
      return 2;
    }
  }
  const size_t colon = settings.listen.rfind(':');
  const std::string host = settings.listen.substr(0, colon);
  const std::string port_text = colon == std::string::npos ? "" : settings.listen.substr(colon + 1);
  if (colon == std::string::npos || port_text.empty() || port_text.size() > 5 ||
      port_text.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(port_text) > 65535) {
    std::cerr << "--listen must be HOST:PORT, such as 127.0.0.1:8080\n";
    return 2;
  }
  auto platform = app::Platform::Open(*options);
  if (!platform.ok()) {
    std::cerr << "cannot open the platform: " << platform.status().ToString() << "\n";
    return 1;
  }
  auto accounts = storage::OpenSqliteAccounts(data);
  if (!accounts.ok()) {
    std::cerr << "cannot open the accounts: " << accounts.status().ToString() << "\n";
    return 1;
  }
  Status applied = ApplyReferenceChanges(**accounts, (*platform)->mutable_reference());
  if (!applied.ok()) {
    std::cerr << "cannot apply the stored registration changes: " << applied.ToString() << "\n";
    return 1;
  }
  Status boot = BootstrapKeys(**accounts, (*platform)->reference(),
                              {"4304961001", "4304961002", "4304962001", "4304962002", "4304963001",
                               "4304964001", "312226T001", "4304965002"},
                              a.opts.count("--demo-keys") != 0, data);
  if (!boot.ok()) {
    std::cerr << "cannot make the first keys: " << boot.ToString() << "\n";
    return 1;
  }
  ApiOptions api_options;
  api_options.clock = NowMs;
  // The log goes to stderr through a thread of its own (common/line_writer.h): the syncer, which
  // answers every request, no longer makes a system call per line. Declared before the Api, so
  // that it outlives it and writes its last lines.
  auto log = std::make_unique<LineWriter>(STDERR_FILENO);
  api_options.log = [log = log.get()](const std::string& line) { log->Write(line); };
  api_options.max_wait_seconds = settings.long_poll_max_seconds;
  api_options.quota_queries_per_minute = settings.quota_queries_per_minute;
  api_options.webhooks.max_attempts = settings.webhook_max_attempts;
  api_options.webhooks.timeout_ms = settings.webhook_timeout_ms;
  // The web single window: built by scripts/build-web into web/dist.
  api_options.web_dir = a.opts.count("--web") ? a.opts.at("--web") : "web/dist";
  const bool web = fs::exists(fs::path(api_options.web_dir) / "index.html");
  auto api = std::make_unique<Api>(platform->get(), accounts->get(), api_options);
  ServerLimits limits;
  limits.max_body_bytes = options->limits.max_message_bytes + (64 << 10);
  limits.max_connections = settings.max_connections;
  HttpServer server(api.get(), limits, settings.threads);
  api->set_server(&server);
  Status st = server.Start(host, static_cast<uint16_t>(std::stoi(port_text)));
  if (!st.ok()) {
    std::cerr << st.message() << "\n";
    return 1;
  }
  std::cout << "kuajing serving on http://" << host << ":" << server.port() << " (data in " << data
            << ")\n"
            << "  web:      "
            << (web ? "http://" + host + ":" + std::to_string(server.port()) + "/"
                    : "not built (scripts/build-web), or give --web DIR")
            << "\n"
            << "  health:   curl http://" << host << ":" << server.port() << "/api/v1/status\n"
            << "  send:     curl -H 'Authorization: Bearer <key>' --data-binary @CEB621Message.xml "
               "http://"
            << host << ":" << server.port() << "/api/v1/messages\n"
            << "  receipts: curl -H 'Authorization: Bearer <key>' 'http://" << host << ":"
            << server.port() << "/api/v1/receipts?after=0&wait=30'\n"
            << "  keys are in " << (fs::path(data) / "keys.txt").string() << "; stop with Ctrl-C\n"
            << "  start:    " << (*platform)->start_note() << "\n"
            << std::flush;  // one write: a script that sees "serving on" sees the start note too
  HttpServer::WaitForSignal();
  // Waiting long polls are answered first, so that draining the requests in flight is quick.
  api->ReleaseWaiters();
  server.Stop();
  api.reset();  // its writer commits and its syncer flushes what was queued
  // The next start reads this instead of every stored list (app/snapshot.h).
  const auto t0 = std::chrono::steady_clock::now();
  const Status saved = (*platform)->SaveSnapshot();
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  if (saved.ok()) {
    std::cout << "snapshot written in " << ms << " ms\n";
  } else {
    std::cerr << "no snapshot written (the next start reads every stored row): " << saved.ToString()
              << "\n";
  }
  std::cout << "kuajing stopped\n";
  return 0;
}

}  // namespace kuajing::server
