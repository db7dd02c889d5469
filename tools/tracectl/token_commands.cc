#include "tools/tracectl/token_commands.h"

#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>

#include "api/auth/token_store.h"

namespace traceledger::tools {
namespace {

using nlohmann::json;

constexpr int kExitFailure = 3;
constexpr uint64_t kSecondsPerDay = 24 * 60 * 60;

int Fail(const Status& status) { return FailWith("tracectl", status); }

// Names are free text: invalid UTF-8 is printed with U+FFFD instead of throwing.
void PrintJson(const json& value) {
  std::cout << value.dump(-1, ' ', false, json::error_handler_t::replace) << "\n" << std::flush;
}

json RecordJson(const api::TokenRecord& r) {
  json out = {{"id", r.token_id},
              {"role", api::RoleName(r.role)},
              {"party", r.party},
              {"name", r.name},
              {"created_at", api::FormatUnixMicros(r.created_unix_micros)},
              {"expires_at", nullptr},
              {"revoked_at", nullptr}};
  if (r.expires_unix_micros.has_value()) {
    out["expires_at"] = api::FormatUnixMicros(*r.expires_unix_micros);
  }
  if (r.revoked_unix_micros.has_value()) {
    out["revoked_at"] = api::FormatUnixMicros(*r.revoked_unix_micros);
  }
  return out;
}

int Issue(api::TokenStore& store, const Flags& flags) {
  auto role_flag = flags.Require("role");
  if (!role_flag.ok()) return Fail(role_flag.status());
  auto role = api::ParseRole(*role_flag);
  if (!role.ok()) return Fail(role.status().WithContext("--role"));
  auto ttl_days = flags.GetUint("ttl-days");
  if (!ttl_days.ok()) return Fail(ttl_days.status());
  std::optional<std::chrono::seconds> ttl;
  if (ttl_days->has_value()) {
    const uint64_t max_days = static_cast<uint64_t>(api::kMaxTokenTtl.count()) / kSecondsPerDay;
    if (**ttl_days == 0 || **ttl_days > max_days) {
      return Fail(Status::InvalidArgument("--ttl-days must be 1.." + std::to_string(max_days)));
    }
    ttl = std::chrono::seconds(static_cast<int64_t>(**ttl_days * kSecondsPerDay));
  }
  auto issued = store.Issue(*role, flags.Get("party").value_or(""),
                            flags.Get("name").value_or(""), ttl);
  if (!issued.ok()) return Fail(issued.status());
  json out = RecordJson(issued->record);
  out["token"] = issued->token_text;
  PrintJson(out);
  std::fprintf(stderr,
               "tracectl: issued %s token %s; the token is shown only now: hand it over as "
               "\"Authorization: Bearer <token>\" and keep it secret\n",
               std::string(api::RoleName(issued->record.role)).c_str(),
               issued->record.token_id.c_str());
  return kExitOk;
}

int List(api::TokenStore& store) {
  auto records = store.List();
  if (!records.ok()) return Fail(records.status());
  for (const api::TokenRecord& r : *records) PrintJson(RecordJson(r));
  return kExitOk;
}

int Revoke(api::TokenStore& store, const Flags& flags) {
  auto id = flags.Require("id");
  if (!id.ok()) return Fail(id.status());
  auto revoked = store.Revoke(*id);
  if (!revoked.ok()) return Fail(revoked.status());
  PrintJson(RecordJson(*revoked));
  return kExitOk;
}

int RunToken(const Flags& flags) {
  if (flags.positional().size() != 1) {
    return Fail(Status::InvalidArgument("token needs one of `issue`, `list`, `revoke`"));
  }
  const std::string& sub = flags.positional()[0];
  if (sub != "issue" && sub != "list" && sub != "revoke") {
    return Fail(Status::InvalidArgument("token needs one of `issue`, `list`, `revoke`, got `" +
                                        sub + "`"));
  }
  // Flags of another subcommand are a usage error, not silently ignored.
  const std::map<std::string, std::set<std::string>> allowed = {
      {"issue", {"data", "role", "party", "name", "ttl-days"}},
      {"list", {"data"}},
      {"revoke", {"data", "id"}}};
  for (const char* name : {"role", "party", "name", "ttl-days", "id"}) {
    if (flags.Has(name) && allowed.at(sub).count(name) == 0) {
      return Fail(Status::InvalidArgument("token " + sub + " takes no --" + std::string(name)));
    }
  }
  auto dir = flags.Require("data");
  if (!dir.ok()) return Fail(dir.status());
  auto store = api::TokenStore::Open(*dir);
  if (!store.ok()) return Fail(store.status());
  if (sub == "issue") return Issue(**store, flags);
  if (sub == "list") return List(**store);
  return Revoke(**store, flags);
}

}  // namespace

Command TokenCommand() {
  return {
      "issue, list and revoke the HTTP API's bearer tokens",
      "tracectl token issue --data DIR --role enterprise|regulator|auditor [--party ID]\n"
      "                     [--name TEXT] [--ttl-days N]\n"
      "  Creates a token for a principal with that role acting as party ID (required for\n"
      "  enterprise: its GLN or unified social credit code; for regulator: regulator:<code>).\n"
      "  Prints {\"id\",\"role\",\"party\",\"name\",\"created_at\",\"expires_at\",\"revoked_at\",\n"
      "  \"token\"} once: only the token's SHA-256 is stored (DIR/tokens, mode 0600). The token\n"
      "  expires after N days if given, else never.\n"
      "tracectl token list --data DIR\n"
      "  One JSON line per token, as above without \"token\" (no secrets).\n"
      "tracectl token revoke --data DIR --id TOKEN_ID\n"
      "  Revokes the token; a running `traceledger serve` refuses it from its next request.\n"
      "  Prints the revoked record. See docs/formats/tokens.md for the roles' permissions.",
      {"data", "role", "party", "name", "ttl-days", "id"},
      {},
      RunToken};
}

}  // namespace traceledger::tools
