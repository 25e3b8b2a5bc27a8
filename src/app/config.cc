#include "app/config.h"

#include <toml++/toml.h>

#include <filesystem>
#include <functional>
#include <map>

namespace kuajing::app {

namespace {

Status Bad(const std::string& key, const std::string& why) {
  return InvalidArgument("config key " + key + ": " + why);
}

// Money and rates are written as strings or numbers; either way they become exact decimals.
Status GetDecimal(const toml::node& n, const std::string& key, Decimal lo, Decimal hi,
                  Decimal* out) {
  std::string text;
  if (auto s = n.value<std::string>()) {
    text = *s;
  } else if (auto i = n.value<int64_t>(); i && n.is_integer()) {
    text = std::to_string(*i);
  } else {
    return Bad(key, "write the number as a string (\"0.7\") or an integer, so it stays exact");
  }
  auto d = Decimal::Parse(text);
  if (!d || *d < lo || *d > hi) {
    return Bad(key,
               "'" + text + "' must be a decimal from " + lo.ToString() + " to " + hi.ToString());
  }
  *out = *d;
  return Status::Ok();
}

Status GetBool(const toml::node& n, const std::string& key, bool* out) {
  auto b = n.value<bool>();
  if (!b || !n.is_boolean()) return Bad(key, "must be true or false");
  *out = *b;
  return Status::Ok();
}

Status GetInt(const toml::node& n, const std::string& key, int64_t lo, int64_t hi, int64_t* out) {
  auto i = n.value<int64_t>();
  if (!i || !n.is_integer() || *i < lo || *i > hi) {
    return Bad(key, "must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi));
  }
  *out = *i;
  return Status::Ok();
}

// Applies a parsed table; `path` is the file's (relative folders are relative to it).
Status ApplyTable(const toml::table& t, const std::string& path, PlatformOptions* options,
                  ServiceSettings* service) {
  PlatformOptions o = *options;
  ServiceSettings svc = service ? *service : ServiceSettings{};
  auto int_setting = [&](int* target, int64_t lo, int64_t hi) {
    return [target, lo, hi](const toml::node& n, const std::string& k) {
      int64_t v;
      KJ_RETURN_IF_ERROR(GetInt(n, k, lo, hi, &v));
      *target = static_cast<int>(v);
      return Status::Ok();
    };
  };
  clearance::RulesConfig& r = o.rules;
  using Setter = std::function<Status(const toml::node&, const std::string&)>;
  const Decimal kMax = Decimal::FromUnits(1'000'000'000);
  credit::Config& cr = o.credit;
  auto int64_setting = [&](int64_t* target, int64_t lo, int64_t hi) {
    return [target, lo, hi](const toml::node& n, const std::string& k) {
      return GetInt(n, k, lo, hi, target);
    };
  };
  auto points = [&](Decimal* target) {
    return [target](const toml::node& n, const std::string& k) {
      return GetDecimal(n, k, Decimal{}, Decimal::FromUnits(100), target);
    };
  };
  std::map<std::string, Setter> setters = {
      {"rules.single_limit",
       [&](auto& n, auto& k) { return GetDecimal(n, k, Decimal{}, kMax, &r.single_limit); }},
      {"rules.annual_limit",
       [&](auto& n, auto& k) { return GetDecimal(n, k, Decimal{}, kMax, &r.annual_limit); }},
      {"rules.reduction",
       [&](auto& n, auto& k) {
         return GetDecimal(n, k, Decimal{}, Decimal::FromUnits(1), &r.reduction);
       }},
      {"rules.line_total_tolerance",
       [&](auto& n, auto& k) {
         return GetDecimal(n, k, Decimal{}, Decimal::FromUnits(100), &r.line_total_tolerance);
       }},
      {"rules.random_inspection_rate",
       [&](auto& n, auto& k) {
         return GetDecimal(n, k, Decimal{}, Decimal::FromUnits(1), &r.random_inspection_rate);
       }},
      {"rules.return_window_days",
       [&](auto& n, auto& k) {
         int64_t v;
         KJ_RETURN_IF_ERROR(GetInt(n, k, 0, 3650, &v));
         r.return_window_days = static_cast<int>(v);
         return Status::Ok();
       }},
      {"rules.random_seed",
       [&](auto& n, auto& k) {
         int64_t v;
         KJ_RETURN_IF_ERROR(GetInt(n, k, 0, INT64_MAX, &v));
         r.random_seed = static_cast<uint64_t>(v);
         return Status::Ok();
       }},
      {"rules.require_gname_equals_item_name",
       [&](auto& n, auto& k) { return GetBool(n, k, &r.require_gname_equals_item_name); }},
      {"rules.review_single_item_over_limit",
       [&](auto& n, auto& k) { return GetBool(n, k, &r.review_single_item_over_limit); }},
      {"rules.default_customs_code",
       [&](auto& n, auto& k) {
         auto s = n.template value<std::string>();
         if (!s || s->size() != 4 || s->find_first_not_of("0123456789") != std::string::npos) {
           return Bad(k, "must be a 4-digit customs code (JGS/T 18)");
         }
         r.default_customs_code = *s;
         return Status::Ok();
       }},
      {"export.arrival_required_modes",
       [&](auto& n, auto& k) {
         auto v = n.template value<std::string>();
         if (!v) return Bad(k, "must be a string such as \"9610,9710,9810,1210\"");
         for (size_t p = 0; p <= v->size();) {
           size_t c = std::min(v->find(',', p), v->size());
           const std::string mode = v->substr(p, c - p);
           if (mode != "9610" && mode != "9710" && mode != "9810" && mode != "1210" &&
               !(v->empty() && mode.empty()))
             return Bad(k, "lists export trade modes among 9610, 9710, 9810, 1210");
           p = c + 1;
         }
         r.exports.arrival_required_modes = *v;
         return Status::Ok();
       }},
      {"export.return_window_days", int_setting(&r.exports.return_window_days, 0, 3650)},
      {"export.summary_deadline_day", int_setting(&r.exports.summary_deadline_day, 1, 28)},
      {"export.summary_max_lines", int_setting(&r.exports.summary_max_lines, 1, 999)},
      {"export.summary_decl_state",
       [&](auto& n, auto& k) {
         auto v = n.template value<std::string>();
         if (!v || v->empty() || v->size() > 3) return Bad(k, "must be 1 to 3 characters");
         r.exports.summary_decl_state = *v;
         return Status::Ok();
       }},
      {"limits.max_message_bytes",
       [&](auto& n, auto& k) {
         int64_t v;
         KJ_RETURN_IF_ERROR(GetInt(n, k, 1024, 64 << 20, &v));
         o.limits.max_message_bytes = static_cast<size_t>(v);
         return Status::Ok();
       }},
      {"reference.dir",
       [&](auto& n, auto& k) {
         auto s = n.template value<std::string>();
         if (!s) return Bad(k, "must be a folder name");
         // Relative to the config file, so a zone's folder moves as a whole.
         std::filesystem::path p(*s);
         o.reference_dir = p.is_absolute()
                               ? p.string()
                               : (std::filesystem::path(path).parent_path() / p).string();
         return Status::Ok();
       }},
      {"risk.rules",
       [&](auto& n, auto& k) {
         auto s = n.template value<std::string>();
         if (!s) return Bad(k, "must be a file name (the risk rules, TOML)");
         std::filesystem::path p(*s);
         o.risk_rules_path = p.is_absolute()
                                 ? p.string()
                                 : (std::filesystem::path(path).parent_path() / p).string();
         return Status::Ok();
       }},
      {"risk.reasons_in_receipts",
       [&](auto& n, auto& k) { return GetBool(n, k, &r.risk_reasons_in_receipts); }},
      {"credit.enabled", [&](auto& n, auto& k) { return GetBool(n, k, &cr.enabled); }},
      {"credit.window_months", int_setting(&cr.window_months, 1, 60)},
      {"credit.min_declarations", int64_setting(&cr.min_declarations, 0, 1'000'000'000)},
      {"credit.a_min_declarations", int64_setting(&cr.a_min_declarations, 0, 1'000'000'000)},
      {"credit.a_score", points(&cr.a_score)},
      {"credit.b_score", points(&cr.b_score)},
      {"credit.c_score", points(&cr.c_score)},
      {"credit.d_findings", int64_setting(&cr.d_findings, 1, 1'000'000)},
      {"credit.d_inspection_rate",
       [&](auto& n, auto& k) {
         return GetDecimal(n, k, Decimal{}, Decimal::FromUnits(1), &cr.d_inspection_rate);
       }},
      {"credit.missing_after_hours", int_setting(&cr.missing_after_hours, 1, 24 * 365)},
      {"credit.discredited_buyer_action",
       [&](auto& n, auto& k) {
         auto v = n.template value<std::string>();
         if (!v || (*v != "review" && *v != "reject")) return Bad(k, "must be review or reject");
         cr.discredited_buyer_action = *v;
         return Status::Ok();
       }},
      {"server.listen",
       [&](auto& n, auto& k) {
         auto s = n.template value<std::string>();
         if (!s || s->find(':') == std::string::npos) return Bad(k, "must be HOST:PORT");
         svc.listen = *s;
         return Status::Ok();
       }},
      {"server.threads", int_setting(&svc.threads, 1, 64)},
      {"server.max_connections", int_setting(&svc.max_connections, 1, 100000)},
      {"server.long_poll_max_seconds", int_setting(&svc.long_poll_max_seconds, 0, 600)},
      {"server.quota_queries_per_minute", int_setting(&svc.quota_queries_per_minute, 1, 100000)},
      {"server.webhook_max_attempts", int_setting(&svc.webhook_max_attempts, 1, 100)},
      {"server.webhook_timeout_ms", int_setting(&svc.webhook_timeout_ms, 100, 60000)},
  };
  // credit.penalty_<event>: points per event per 1,000 declarations (per event for finding and
  // late_summary).
  // credit.inspection_factor_a/b/c: the random-inspection rate's factor for grades A, B, C.
  for (size_t g = 0; g < cr.inspection_factor.size(); ++g) {
    setters.emplace(std::string("credit.inspection_factor_") + static_cast<char>('a' + g),
                    [&, g](const toml::node& n, const std::string& k) {
                      return GetDecimal(n, k, Decimal{}, Decimal::FromUnits(100),
                                        &cr.inspection_factor[g]);
                    });
  }
  for (size_t i = 1; i < credit::kEventKinds; ++i) {
    setters.emplace(
        std::string("credit.penalty_") + credit::EventName(static_cast<credit::Event>(i)),
        points(&cr.penalty[i]));
  }
  for (const auto& [section, node] : t) {
    const toml::table* inner = node.as_table();
    if (inner == nullptr) {
      return Bad(std::string(section.str()),
                 "top-level keys belong in [rules], [export], [limits], [reference], [risk], "
                 "[credit] or [server]");
    }
    for (const auto& [name, value] : *inner) {
      const std::string key = std::string(section.str()) + "." + std::string(name.str());
      auto it = setters.find(key);
      if (it == setters.end()) return Bad(key, "unknown key (see config/kuajing.toml)");
      KJ_RETURN_IF_ERROR(it->second(value, key));
    }
  }
  *options = std::move(o);
  if (service != nullptr) *service = svc;
  return Status::Ok();
}

}  // namespace

Status LoadConfig(const std::string& path, PlatformOptions* options, ServiceSettings* service) {
  if (!std::filesystem::exists(path)) return NotFound("no config file " + path);
  toml::table t;
  try {
    t = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return InvalidArgument(path + ":" + std::to_string(e.source().begin.line) + ": " +
                           std::string(e.description()));
  }
  return ApplyTable(t, path, options, service);
}

Status ApplySetting(const std::string& assignment, PlatformOptions* options,
                    ServiceSettings* service) {
  const size_t dot = assignment.find('.'), eq = assignment.find('=');
  if (dot == std::string::npos || eq == std::string::npos || dot > eq) {
    return InvalidArgument("--set needs section.key=value, such as rules.annual_limit=26000");
  }
  const std::string section = assignment.substr(0, dot),
                    key = assignment.substr(dot + 1, eq - dot - 1);
  const std::string value = assignment.substr(eq + 1);
  toml::table inner;
  if (value == "true" || value == "false") {
    inner.insert(key, value == "true");
  } else if (!value.empty() && value.size() < 19 &&
             value.find_first_not_of("0123456789") == std::string::npos) {
    inner.insert(key, static_cast<int64_t>(std::stoll(value)));
  } else {
    inner.insert(key, value);
  }
  toml::table t;
  t.insert(section, std::move(inner));
  return ApplyTable(t, "./command-line", options, service);
}

}  // namespace kuajing::app
