// File: api/auth/token_store.h
//
// Bearer tokens for the HTTP API. A token is the text "tl_<token id>_<secret>": a 16-hex-digit
// id (not secret, safe to log) and 256 bits of secret from OpenSSL RAND_bytes as 64 hex
// digits. The store keeps one record per token in DIR/tokens (docs/formats/tokens.md): id,
// role, party, name, times, revocation, and the SHA-256 of the token text, never the text
// itself; the token is shown once, when issued.
//
// Main type: TokenStore. Thread-safe: any number of threads may call Authenticate() (a
// stat(2) and a hash-map lookup) while others Issue() or Revoke(). Several processes may share
// one DIR: writers serialize on an flock of DIR/tokens.lock and replace DIR/tokens atomically
// (temporary file, fsync, rename, fsync of DIR), and every Authenticate() and List() reloads
// the file when it changed on disk, so `tracectl token revoke` takes effect on a running
// server at its next request.
#ifndef TRACELEDGER_API_AUTH_TOKEN_STORE_H_
#define TRACELEDGER_API_AUTH_TOKEN_STORE_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "api/auth/policy.h"
#include "ledger/base/status.h"
#include "ledger/base/types.h"

namespace traceledger::api {

// DIR/tokens and the lock file writers hold.
std::string TokensPath(const std::string& data_dir);
std::string TokensLockPath(const std::string& data_dir);

inline constexpr size_t kTokenIdHexDigits = 16;      // 64 random bits
inline constexpr size_t kTokenSecretBytes = 32;      // 256 random bits
inline constexpr size_t kTokenSecretHexDigits = 2 * kTokenSecretBytes;
inline constexpr std::string_view kTokenPrefix = "tl_";
// "tl_" + id + "_" + secret.
inline constexpr size_t kTokenTextBytes =
    kTokenPrefix.size() + kTokenIdHexDigits + 1 + kTokenSecretHexDigits;
inline constexpr size_t kMaxPartyBytes = 256;        // as the longest submitter id
inline constexpr size_t kMaxTokenNameBytes = 200;
inline constexpr size_t kMaxTokens = 100'000;        // records in one file, revoked included
inline constexpr size_t kMaxTokensFileBytes = size_t{64} << 20;
inline constexpr std::chrono::seconds kMaxTokenTtl = std::chrono::hours(24 * 3660);  // ~10 y

// One line of DIR/tokens.
struct TokenRecord {
  std::string token_id;  // kTokenIdHexDigits lowercase hex digits
  Role role = Role::kAnonymous;
  std::string party;  // see Principal::party
  std::string name;   // free text for operators ("acme plant 2 scanner"), may be empty
  int64_t created_unix_micros = 0;
  std::optional<int64_t> expires_unix_micros;  // the token fails from this instant on
  std::optional<int64_t> revoked_unix_micros;
  Sha256Digest token_sha256{};  // SHA-256 of the whole token text "tl_<id>_<secret>"

  bool operator==(const TokenRecord&) const = default;
};

// Returned once by Issue(): the token text to hand to the client, and what was stored.
struct IssuedToken {
  std::string token_text;
  TokenRecord record;
};

struct TokenStoreOptions {
  // Wall clock in microseconds since the epoch, for creation, expiry and revocation times.
  // Defaults to the system clock; tests inject a fake.
  std::function<int64_t()> clock_unix_micros;
};

class TokenStore {
 public:
  // Opens the token store of `data_dir` and loads DIR/tokens (absent = no tokens yet; it is
  // created by the first Issue()). NotFound if `data_dir` is not a directory; DataLoss naming
  // the line if DIR/tokens is malformed; FailedPrecondition if it has an unknown format
  // version; Unavailable on I/O errors.
  static Result<std::unique_ptr<TokenStore>> Open(const std::string& data_dir,
                                                  TokenStoreOptions options = {});

  TokenStore(const TokenStore&) = delete;
  TokenStore& operator=(const TokenStore&) = delete;
  ~TokenStore();

  // Creates a token for `role` acting as `party`, stores its record and returns the token
  // text (the only time it exists outside the client). Requires: kEnterprise and kRegulator
  // have a party (a regulator's starts with "regulator:", an enterprise's does not); kAuditor
  // may have one; `party` is printable ASCII without spaces, at most kMaxPartyBytes; `name`
  // has no control characters and at most kMaxTokenNameBytes; `ttl`, if given, is in
  // (0, kMaxTokenTtl]. InvalidArgument naming the broken rule otherwise, also for kAnonymous
  // (anonymous needs no token). ResourceExhausted at kMaxTokens records. Errors of reading
  // or writing DIR/tokens as in Open().
  Result<IssuedToken> Issue(Role role, std::string_view party, std::string_view name,
                            std::optional<std::chrono::seconds> ttl);

  // Marks the token revoked now; it fails Authenticate() from then on, here and (at their next
  // request) in every other process that has DIR/tokens open. Revoking a revoked token is OK
  // and keeps the first revocation time. Returns the record as stored. InvalidArgument if
  // `token_id` is not 16 lowercase hex digits; NotFound if no token has that id.
  Result<TokenRecord> Revoke(std::string_view token_id);

  // Every record, in issue order, after reloading DIR/tokens if it changed.
  Result<std::vector<TokenRecord>> List();

  // The principal that `bearer` (the token text, without "Bearer ") authenticates, after
  // reloading DIR/tokens if it changed on disk. The secret is compared in constant time.
  // InvalidArgument (the HTTP server answers 401) if the text is malformed, its id is unknown,
  // its secret does not match, or it is revoked or expired; the message names the token id
  // (never the secret) and the reason. Any other code is the store's failure (DataLoss,
  // Unavailable, ...: answer 5xx): the caller must not treat the request as anonymous.
  Result<Principal> Authenticate(std::string_view bearer);

  // Re-reads DIR/tokens now, whether or not it changed. Errors as in Open(); on error the
  // previously loaded tokens stay in force.
  Status Reload();

 private:
  struct FileIdentity {
    bool exists = false;
    dev_t device = 0;
    ino_t inode = 0;
    off_t size = 0;
    int64_t mtime_ns = 0;
    int64_t ctime_ns = 0;
    bool operator==(const FileIdentity&) const = default;
  };
  struct Snapshot {
    FileIdentity identity;
    std::vector<TokenRecord> records;                    // file order
    std::unordered_map<std::string, size_t> index_by_id;  // token id -> records index
  };

  TokenStore(std::string data_dir, TokenStoreOptions options);

  static Result<FileIdentity> StatFile(const std::string& path);
  Result<std::shared_ptr<const Snapshot>> LoadFile() const;
  Status ReloadIfChanged();
  std::shared_ptr<const Snapshot> snapshot() const;
  void Install(std::shared_ptr<const Snapshot> snapshot);
  // Under the writer lock: reads the file, applies `change` to its records, writes it back and
  // installs the result.
  Status Rewrite(const std::function<Status(std::vector<TokenRecord>&)>& change);

  const std::string data_dir_;
  const std::string path_;
  const TokenStoreOptions options_;

  // Serializes reloads and writes within this process (other processes: the flock).
  std::mutex load_mutex_;
  mutable std::mutex snapshot_mutex_;
  std::shared_ptr<const Snapshot> snapshot_;  // guarded by snapshot_mutex_; never null
};

// "2026-11-27T03:57:49Z" (UTC, whole seconds, truncated), for messages and the CLI.
std::string FormatUnixMicros(int64_t unix_micros);

}  // namespace traceledger::api

#endif  // TRACELEDGER_API_AUTH_TOKEN_STORE_H_
