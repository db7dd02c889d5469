// Tests of api/auth: the token store (issue, authenticate, revoke, expire, persistence, the
// file's mode and contents, reload by a running server) and the Role x Action policy table of
// docs/formats/tokens.md.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "api/auth/policy.h"
#include "api/auth/token_store.h"
#include "ledger/base/encoding.h"
#include "ledger/data_dir.h"

namespace traceledger::api {
namespace {

constexpr int64_t kStartMicros = 1'790'000'000'000'000;  // 2026-09-21
constexpr int64_t kSecondMicros = 1'000'000;
constexpr char kEnterpriseParty[] = "9521234000006";
constexpr char kRegulatorParty[] = "regulator:SAMR-310104";

class TokenStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("api_auth_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<TokenStore> OpenStore(const std::filesystem::path& dir) {
    TokenStoreOptions options;
    options.clock_unix_micros = [this] { return now_micros_.load(); };
    auto store = TokenStore::Open(dir.string(), options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }
  std::unique_ptr<TokenStore> OpenStore() { return OpenStore(dir_); }

  std::string FileBytes() { return *ledger::ReadFileToString(TokensPath(dir_.string())); }

  std::filesystem::path dir_;
  std::atomic<int64_t> now_micros_{kStartMicros};
};

std::string SecretOf(const std::string& token_text) {
  return token_text.substr(token_text.size() - kTokenSecretHexDigits);
}

TEST(RoleTest, ParseRoleInvertsRoleName) {
  for (Role role : kAllRoles) {
    auto parsed = ParseRole(RoleName(role));
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(*parsed, role);
  }
}

TEST(RoleTest, ParseRoleNamesTheBadValueAndTheAllowedOnes) {
  for (std::string_view bad : {"admin", "", "Regulator", "enterprise "}) {
    auto parsed = ParseRole(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
    const std::string& message = parsed.status().message();
    EXPECT_NE(message.find("\"" + std::string(bad) + "\""), std::string::npos) << message;
    for (std::string_view allowed : {"enterprise", "regulator", "auditor", "anonymous"}) {
      EXPECT_NE(message.find(allowed), std::string::npos) << message;
    }
  }
}

// The table of docs/formats/tokens.md, written out independently of policy.cc.
TEST(PolicyTest, AllowsMatchesTheDocumentedTable) {
  const std::map<Role, std::set<Action>> allowed = {
      {Role::kAnonymous, {Action::kReadCheckpoint, Action::kHealth}},
      {Role::kAuditor,
       {Action::kReadLedgerEntries, Action::kReadProofs, Action::kReadCheckpoint,
        Action::kEvidence, Action::kHealth}},
      {Role::kEnterprise,
       {Action::kCapture, Action::kReadEvents, Action::kTrace, Action::kReadRecalls,
        Action::kReadAlerts, Action::kReadTimeline, Action::kFillPermit, Action::kReadProofs,
        Action::kReadCheckpoint, Action::kHealth}},
      {Role::kRegulator, std::set<Action>(kAllActions.begin(), kAllActions.end())},
  };
  for (Role role : kAllRoles) {
    for (Action action : kAllActions) {
      EXPECT_EQ(Allows(role, action), allowed.at(role).count(action) == 1)
          << RoleName(role) << " x " << ActionName(action);
    }
  }
}

TEST(PolicyTest, ActionNamesAreDistinct) {
  std::set<std::string_view> names;
  for (Action action : kAllActions) names.insert(ActionName(action));
  EXPECT_EQ(names.size(), kAllActions.size());
}

TEST(PolicyTest, EnterprisesMayNotCaptureRegulatorEventKinds) {
  const std::set<v1::Event::BodyCase> regulator_only = {
      v1::Event::kInspection, v1::Event::kSamplingResult, v1::Event::kEnforcementAction,
      v1::Event::kRecall};
  const std::vector<v1::Event::BodyCase> all = {
      v1::Event::kObjectEvent,          v1::Event::kAggregationEvent,
      v1::Event::kTransactionEvent,     v1::Event::kTransformationEvent,
      v1::Event::kAssociationEvent,     v1::Event::kInspection,
      v1::Event::kSamplingResult,       v1::Event::kEnforcementAction,
      v1::Event::kRecall,               v1::Event::kRecallRemoval,
      v1::Event::kCylinderRegistration, v1::Event::kCylinderInspection,
      v1::Event::kCylinderFill};
  // Every body case of the oneof is in `all` (a new one must be added to the policy).
  EXPECT_EQ(all.size(), static_cast<size_t>(
                            v1::Event::GetDescriptor()->FindOneofByName("body")->field_count()));
  for (v1::Event::BodyCase body : all) {
    EXPECT_EQ(MayCaptureEventType(Role::kEnterprise, body), regulator_only.count(body) == 0)
        << body;
    EXPECT_TRUE(MayCaptureEventType(Role::kRegulator, body)) << body;
    EXPECT_FALSE(MayCaptureEventType(Role::kAuditor, body)) << body;
    EXPECT_FALSE(MayCaptureEventType(Role::kAnonymous, body)) << body;
  }
  for (Role role : kAllRoles) {
    EXPECT_FALSE(MayCaptureEventType(role, v1::Event::BODY_NOT_SET)) << RoleName(role);
  }
}

TEST_F(TokenStoreTest, IssuedTokenAuthenticatesAsItsRoleAndParty) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto issued = store->Issue(Role::kEnterprise, kEnterpriseParty, "plant 2 scanner", std::nullopt);
  ASSERT_TRUE(issued.ok()) << issued.status().ToString();
  EXPECT_EQ(issued->token_text.size(), kTokenTextBytes);
  EXPECT_EQ(issued->token_text.substr(0, 3), "tl_");
  EXPECT_EQ(issued->token_text.substr(3, kTokenIdHexDigits), issued->record.token_id);
  EXPECT_EQ(issued->record.created_unix_micros, kStartMicros);
  EXPECT_FALSE(issued->record.expires_unix_micros.has_value());
  EXPECT_EQ(issued->record.name, "plant 2 scanner");

  auto principal = store->Authenticate(issued->token_text);
  ASSERT_TRUE(principal.ok()) << principal.status().ToString();
  EXPECT_EQ(principal->role, Role::kEnterprise);
  EXPECT_EQ(principal->party, kEnterpriseParty);
  EXPECT_EQ(principal->token_id, issued->record.token_id);
}

TEST_F(TokenStoreTest, TokensAreDistinctAndAuthenticateIndependently) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto regulator = store->Issue(Role::kRegulator, kRegulatorParty, "", std::nullopt);
  auto auditor = store->Issue(Role::kAuditor, "", "court", std::nullopt);
  ASSERT_TRUE(regulator.ok()) << regulator.status().ToString();
  ASSERT_TRUE(auditor.ok()) << auditor.status().ToString();
  EXPECT_NE(regulator->record.token_id, auditor->record.token_id);
  EXPECT_NE(SecretOf(regulator->token_text), SecretOf(auditor->token_text));
  auto as_regulator = store->Authenticate(regulator->token_text);
  auto as_auditor = store->Authenticate(auditor->token_text);
  ASSERT_TRUE(as_regulator.ok());
  ASSERT_TRUE(as_auditor.ok());
  EXPECT_EQ(as_regulator->role, Role::kRegulator);
  EXPECT_EQ(as_regulator->party, kRegulatorParty);
  EXPECT_EQ(as_auditor->role, Role::kAuditor);
  EXPECT_EQ(as_auditor->party, "");
}

TEST_F(TokenStoreTest, IssueRejectsBadRolePartyNameAndTtl) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  struct Case {
    Role role;
    std::string party;
    std::string name;
    std::optional<std::chrono::seconds> ttl;
    std::string want_in_message;
  };
  const std::vector<Case> cases = {
      {Role::kEnterprise, "", "", std::nullopt, "needs a party"},
      {Role::kRegulator, "", "", std::nullopt, "regulator:<code>"},
      {Role::kRegulator, "SAMR-310104", "", std::nullopt, "regulator:<code>"},
      {Role::kRegulator, "regulator:", "", std::nullopt, "regulator:<code>"},
      {Role::kEnterprise, "regulator:SAMR-1", "", std::nullopt, "names a regulator"},
      {Role::kAnonymous, "", "", std::nullopt, "anonymous needs no token"},
      {Role::kEnterprise, "95212 34000006", "", std::nullopt, "space"},
      {Role::kEnterprise, std::string(kMaxPartyBytes + 1, 'a'), "", std::nullopt, "bytes"},
      {Role::kAuditor, "", "line\nbreak", std::nullopt, "control character"},
      {Role::kAuditor, "", "tab\there", std::nullopt, "control character"},
      {Role::kAuditor, "", std::string(kMaxTokenNameBytes + 1, 'n'), std::nullopt, "bytes"},
      {Role::kAuditor, "", "", std::chrono::seconds(0), "lifetime"},
      {Role::kAuditor, "", "", std::chrono::seconds(-5), "lifetime"},
      {Role::kAuditor, "", "", kMaxTokenTtl + std::chrono::seconds(1), "lifetime"},
  };
  for (const Case& c : cases) {
    auto issued = store->Issue(c.role, c.party, c.name, c.ttl);
    ASSERT_FALSE(issued.ok()) << RoleName(c.role) << " " << c.party;
    EXPECT_EQ(issued.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(issued.status().message().find(c.want_in_message), std::string::npos)
        << issued.status().message();
  }
  auto list = store->List();
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty());
  EXPECT_FALSE(std::filesystem::exists(TokensPath(dir_.string())));
}

TEST_F(TokenStoreTest, TamperedTokensAreRejectedWithoutEchoingTheSecret) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto issued = store->Issue(Role::kEnterprise, kEnterpriseParty, "", std::nullopt);
  ASSERT_TRUE(issued.ok());
  const std::string& token = issued->token_text;
  const std::string secret = SecretOf(token);

  std::string other_secret = token;
  other_secret.back() = other_secret.back() == '0' ? '1' : '0';
  std::string other_id = token;
  other_id[3] = other_id[3] == '0' ? '1' : '0';
  std::string upper = token;
  upper.back() = 'A';
  const std::vector<std::pair<std::string, std::string>> cases = {
      {other_secret, "the secret does not match"},
      {other_id, "is unknown"},
      {upper, "malformed"},
      {token.substr(0, token.size() - 1), "malformed"},
      {token + "0", "malformed"},
      {"Bearer " + token, "malformed"},
      {"tx" + token.substr(2), "malformed"},
      {token.substr(0, 19) + "-" + token.substr(20), "malformed"},
      {"", "malformed"},
  };
  for (const auto& [presented, want] : cases) {
    auto principal = store->Authenticate(presented);
    ASSERT_FALSE(principal.ok()) << presented;
    EXPECT_EQ(principal.status().code(), StatusCode::kInvalidArgument);
    const std::string& message = principal.status().message();
    EXPECT_NE(message.find(want), std::string::npos) << message;
    EXPECT_EQ(message.find(secret.substr(0, 16)), std::string::npos) << message;
    if (presented.size() >= 16) {  // nor the tail of what was presented
      EXPECT_EQ(message.find(presented.substr(presented.size() - 16)), std::string::npos)
          << message;
    }
  }
  EXPECT_TRUE(store->Authenticate(token).ok());
}

TEST_F(TokenStoreTest, TokenOfAnotherStoreIsUnknown) {
  const std::filesystem::path other_dir = dir_ / "other";
  std::filesystem::create_directories(other_dir);
  auto store = OpenStore();
  auto other = OpenStore(other_dir);
  ASSERT_NE(store, nullptr);
  ASSERT_NE(other, nullptr);
  auto issued = other->Issue(Role::kRegulator, kRegulatorParty, "", std::nullopt);
  ASSERT_TRUE(issued.ok());
  ASSERT_TRUE(store->Issue(Role::kRegulator, kRegulatorParty, "", std::nullopt).ok());
  auto principal = store->Authenticate(issued->token_text);
  ASSERT_FALSE(principal.ok());
  EXPECT_EQ(principal.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(principal.status().message().find("unknown"), std::string::npos);
  EXPECT_TRUE(other->Authenticate(issued->token_text).ok());
}

TEST_F(TokenStoreTest, RevokedTokenFailsAndRevokeIsIdempotent) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto issued = store->Issue(Role::kEnterprise, kEnterpriseParty, "", std::nullopt);
  auto kept = store->Issue(Role::kEnterprise, kEnterpriseParty, "", std::nullopt);
  ASSERT_TRUE(issued.ok());
  ASSERT_TRUE(kept.ok());
  now_micros_ += 10 * kSecondMicros;
  auto revoked = store->Revoke(issued->record.token_id);
  ASSERT_TRUE(revoked.ok()) << revoked.status().ToString();
  EXPECT_EQ(revoked->revoked_unix_micros, kStartMicros + 10 * kSecondMicros);

  auto principal = store->Authenticate(issued->token_text);
  ASSERT_FALSE(principal.ok());
  EXPECT_EQ(principal.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(principal.status().message().find("revoked"), std::string::npos);
  EXPECT_TRUE(store->Authenticate(kept->token_text).ok());

  now_micros_ += 10 * kSecondMicros;
  auto again = store->Revoke(issued->record.token_id);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->revoked_unix_micros, kStartMicros + 10 * kSecondMicros);
}

TEST_F(TokenStoreTest, RevokeOfUnknownOrMalformedIdFails) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Issue(Role::kAuditor, "", "", std::nullopt).ok());
  auto unknown = store->Revoke("0123456789abcdef");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  EXPECT_NE(unknown.status().message().find("0123456789abcdef"), std::string::npos);
  auto malformed = store->Revoke("tl_0123");
  ASSERT_FALSE(malformed.ok());
  EXPECT_EQ(malformed.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(TokenStoreTest, TokenExpiresAtItsTtl) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto issued = store->Issue(Role::kAuditor, "", "", std::chrono::seconds(60));
  ASSERT_TRUE(issued.ok());
  EXPECT_EQ(issued->record.expires_unix_micros, kStartMicros + 60 * kSecondMicros);
  now_micros_ = kStartMicros + 60 * kSecondMicros - 1;
  EXPECT_TRUE(store->Authenticate(issued->token_text).ok());
  now_micros_ = kStartMicros + 60 * kSecondMicros;
  auto principal = store->Authenticate(issued->token_text);
  ASSERT_FALSE(principal.ok());
  EXPECT_EQ(principal.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(principal.status().message().find("expired at"), std::string::npos)
      << principal.status().message();
}

TEST_F(TokenStoreTest, FileIsPrivateAndHoldsOnlyHashes) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto issued = store->Issue(Role::kRegulator, kRegulatorParty, "desk", std::nullopt);
  ASSERT_TRUE(issued.ok());
  ASSERT_TRUE(store->Revoke(issued->record.token_id).ok());  // a second write keeps the mode
  struct stat st {};
  ASSERT_EQ(::stat(TokensPath(dir_.string()).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::string bytes = FileBytes();
  EXPECT_EQ(bytes.find(SecretOf(issued->token_text)), std::string::npos);
  EXPECT_EQ(bytes.find(SecretOf(issued->token_text).substr(0, 16)), std::string::npos);
  EXPECT_NE(bytes.find(HexEncode(issued->record.token_sha256)), std::string::npos);
  EXPECT_NE(bytes.find(issued->record.token_id), std::string::npos);
  EXPECT_EQ(bytes.substr(0, bytes.find('\n')), "traceledger-tokens\t1");
  EXPECT_FALSE(std::filesystem::exists(TokensPath(dir_.string()) + ".tmp"));
}

TEST_F(TokenStoreTest, ReopenedStoreHasTheSameTokens) {
  std::string token;
  std::vector<TokenRecord> before;
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    auto issued = store->Issue(Role::kEnterprise, kEnterpriseParty, "a b c", std::nullopt);
    ASSERT_TRUE(issued.ok());
    token = issued->token_text;
    ASSERT_TRUE(store->Issue(Role::kAuditor, "", "", std::chrono::seconds(3600)).ok());
    auto revoked = store->Issue(Role::kRegulator, kRegulatorParty, "", std::nullopt);
    ASSERT_TRUE(revoked.ok());
    ASSERT_TRUE(store->Revoke(revoked->record.token_id).ok());
    before = *store->List();
  }
  auto reopened = OpenStore();
  ASSERT_NE(reopened, nullptr);
  auto after = reopened->List();
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*after, before);
  ASSERT_EQ(after->size(), 3u);
  auto principal = reopened->Authenticate(token);
  ASSERT_TRUE(principal.ok()) << principal.status().ToString();
  EXPECT_EQ(principal->party, kEnterpriseParty);
}

TEST_F(TokenStoreTest, RevokeByAnotherStoreTakesEffectInARunningOne) {
  auto server = OpenStore();
  auto operator_cli = OpenStore();
  ASSERT_NE(server, nullptr);
  ASSERT_NE(operator_cli, nullptr);
  auto issued = operator_cli->Issue(Role::kEnterprise, kEnterpriseParty, "", std::nullopt);
  ASSERT_TRUE(issued.ok());
  // Issued after the server opened: seen without a restart.
  ASSERT_TRUE(server->Authenticate(issued->token_text).ok());
  ASSERT_TRUE(operator_cli->Revoke(issued->record.token_id).ok());
  auto principal = server->Authenticate(issued->token_text);
  ASSERT_FALSE(principal.ok());
  EXPECT_NE(principal.status().message().find("revoked"), std::string::npos);
}

TEST_F(TokenStoreTest, ExplicitReloadSeesAnotherStoresRevoke) {
  auto server = OpenStore();
  auto operator_cli = OpenStore();
  ASSERT_NE(server, nullptr);
  ASSERT_NE(operator_cli, nullptr);
  auto issued = operator_cli->Issue(Role::kAuditor, "", "", std::nullopt);
  ASSERT_TRUE(issued.ok());
  ASSERT_TRUE(server->Reload().ok());
  ASSERT_TRUE(operator_cli->Revoke(issued->record.token_id).ok());
  ASSERT_TRUE(server->Reload().ok());
  auto list = server->List();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_TRUE(list->front().revoked_unix_micros.has_value());
}

TEST_F(TokenStoreTest, CorruptFileIsDataLossNotUnauthenticated) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto issued = store->Issue(Role::kAuditor, "", "", std::nullopt);
  ASSERT_TRUE(issued.ok());
  std::string bytes = FileBytes();
  bytes.replace(bytes.find("\tauditor\t"), 9, "\tadmin\t");
  ASSERT_TRUE(ledger::WriteFileAtomically(TokensPath(dir_.string()), bytes, 0600,
                                          ledger::Overwrite::kYes)
                  .ok());
  auto principal = store->Authenticate(issued->token_text);
  ASSERT_FALSE(principal.ok());
  EXPECT_EQ(principal.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(principal.status().message().find("line 2"), std::string::npos)
      << principal.status().message();
  auto reopened = TokenStore::Open(dir_.string());
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.status().code(), StatusCode::kDataLoss);
}

TEST_F(TokenStoreTest, UnknownFormatVersionIsFailedPrecondition) {
  ASSERT_TRUE(ledger::WriteFileAtomically(TokensPath(dir_.string()), "traceledger-tokens\t2\n",
                                          0600, ledger::Overwrite::kYes)
                  .ok());
  auto store = TokenStore::Open(dir_.string());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(TokenStoreTest, OpenOfMissingDirectoryIsNotFound) {
  auto store = TokenStore::Open((dir_ / "missing").string());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kNotFound);
}

// Many threads authenticate while another issues and revokes (TSan checks the locking).
TEST_F(TokenStoreTest, AuthenticateIsThreadSafeDuringWrites) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto stable = store->Issue(Role::kEnterprise, kEnterpriseParty, "", std::nullopt);
  ASSERT_TRUE(stable.ok());
  constexpr int kThreads = 3;
  constexpr int kCallsPerThread = 300;
  std::atomic<int> failures{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < kThreads; ++t) {
    readers.emplace_back([&] {
      for (int i = 0; i < kCallsPerThread; ++i) {
        if (!store->Authenticate(stable->token_text).ok()) ++failures;
      }
    });
  }
  for (int i = 0; i < 5; ++i) {
    auto issued = store->Issue(Role::kAuditor, "", "", std::nullopt);
    ASSERT_TRUE(issued.ok());
    ASSERT_TRUE(store->Revoke(issued->record.token_id).ok());
  }
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(store->List()->size(), 6u);
}

TEST(FormatUnixMicrosTest, IsRfc3339Utc) {
  EXPECT_EQ(FormatUnixMicros(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatUnixMicros(1'790'000'000'999'999), "2026-09-21T14:13:20Z");
}

}  // namespace
}  // namespace traceledger::api
