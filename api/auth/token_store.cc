#include "api/auth/token_store.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>

#include "ledger/base/encoding.h"
#include "ledger/data_dir.h"
#include "ledger/sha256.h"

namespace traceledger::api {
namespace {

// The first line of DIR/tokens (docs/formats/tokens.md).
constexpr std::string_view kFileMagic = "traceledger-tokens";
constexpr std::string_view kFileVersion = "1";
constexpr size_t kFieldsPerRecord = 8;
constexpr std::string_view kRegulatorPartyPrefix = "regulator:";
constexpr int kMaxIdAttempts = 8;  // 64-bit ids: a second collision means a broken RNG

Status ErrnoStatus(const std::string& what) {
  const int err = errno;
  std::string message = what + ": " + std::strerror(err);
  if (err == ENOENT || err == ENOTDIR) return Status::NotFound(std::move(message));
  if (err == EACCES || err == EPERM) return Status::FailedPrecondition(std::move(message));
  if (err == ENOSPC) return Status::ResourceExhausted(std::move(message));
  return Status::Unavailable(std::move(message));
}

// An fd closed on scope exit; with an flock held, releasing the fd releases the lock.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

int64_t SystemClockMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool IsLowerHex(std::string_view text) {
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Status ValidateTokenId(std::string_view token_id) {
  if (token_id.size() != kTokenIdHexDigits || !IsLowerHex(token_id)) {
    return Status::InvalidArgument("token id \"" + std::string(token_id) + "\" is not " +
                                   std::to_string(kTokenIdHexDigits) + " lowercase hex digits");
  }
  return Status::Ok();
}

// The party rules of Issue() (token_store.h), also checked on every record read back.
Status ValidateParty(Role role, std::string_view party) {
  if (party.size() > kMaxPartyBytes) {
    return Status::InvalidArgument("party has " + std::to_string(party.size()) +
                                   " bytes, more than " + std::to_string(kMaxPartyBytes));
  }
  for (size_t i = 0; i < party.size(); ++i) {
    const auto c = static_cast<unsigned char>(party[i]);
    if (c <= 0x20 || c >= 0x7f) {
      return Status::InvalidArgument("party has a space, control or non-ASCII byte at offset " +
                                     std::to_string(i));
    }
  }
  const bool regulator_party = party.starts_with(kRegulatorPartyPrefix);
  switch (role) {
    case Role::kAnonymous:
      return Status::InvalidArgument(
          "role anonymous needs no token; issue one for enterprise, regulator or auditor");
    case Role::kEnterprise:
      if (party.empty()) {
        return Status::InvalidArgument(
            "role enterprise needs a party: the submitter id (GLN or unified social credit "
            "code) it writes and reads as");
      }
      if (regulator_party) {
        return Status::InvalidArgument("enterprise party \"" + std::string(party) +
                                       "\" starts with \"regulator:\", which names a regulator");
      }
      return Status::Ok();
    case Role::kRegulator:
      if (!regulator_party || party.size() == kRegulatorPartyPrefix.size()) {
        return Status::InvalidArgument("regulator party \"" + std::string(party) +
                                       "\" is not of the form regulator:<code>");
      }
      return Status::Ok();
    case Role::kAuditor:
      return Status::Ok();
  }
  return Status::Ok();
}

Status ValidateName(std::string_view name) {
  if (name.size() > kMaxTokenNameBytes) {
    return Status::InvalidArgument("token name has " + std::to_string(name.size()) +
                                   " bytes, more than " + std::to_string(kMaxTokenNameBytes));
  }
  for (size_t i = 0; i < name.size(); ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    if (c < 0x20 || c == 0x7f) {
      return Status::InvalidArgument("token name has a control character at offset " +
                                     std::to_string(i));
    }
  }
  return Status::Ok();
}

// One record's invariants: asserted before writing, DataLoss when read back.
Status ValidateRecord(const TokenRecord& record) {
  TL_RETURN_IF_ERROR(ValidateTokenId(record.token_id));
  TL_RETURN_IF_ERROR(ValidateParty(record.role, record.party));
  TL_RETURN_IF_ERROR(ValidateName(record.name));
  if (record.created_unix_micros <= 0) {
    return Status::InvalidArgument("created time " + std::to_string(record.created_unix_micros) +
                                   " is not positive");
  }
  if (record.expires_unix_micros.has_value() &&
      *record.expires_unix_micros <= record.created_unix_micros) {
    return Status::InvalidArgument("expiry time is not after the creation time");
  }
  return Status::Ok();
}

std::string OptionalTime(const std::optional<int64_t>& time) {
  return time.has_value() ? std::to_string(*time) : std::string();
}

std::string Serialize(const std::vector<TokenRecord>& records) {
  std::string out;
  out.append(kFileMagic).append("\t").append(kFileVersion).append("\n");
  for (const TokenRecord& r : records) {
    out.append(r.token_id).append("\t");
    out.append(RoleName(r.role)).append("\t");
    out.append(r.party).append("\t");
    out.append(std::to_string(r.created_unix_micros)).append("\t");
    out.append(OptionalTime(r.expires_unix_micros)).append("\t");
    out.append(OptionalTime(r.revoked_unix_micros)).append("\t");
    out.append(HexEncode(r.token_sha256)).append("\t");
    out.append(r.name).append("\n");
  }
  return out;
}

std::vector<std::string_view> SplitTabs(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  while (true) {
    const size_t tab = line.find('\t', start);
    if (tab == std::string_view::npos) {
      fields.push_back(line.substr(start));
      return fields;
    }
    fields.push_back(line.substr(start, tab - start));
    start = tab + 1;
  }
}

Result<int64_t> ParseTime(std::string_view field, std::string_view what) {
  int64_t value = 0;
  const auto [end, error] = std::from_chars(field.data(), field.data() + field.size(), value);
  if (error != std::errc() || end != field.data() + field.size() || field.empty() ||
      field[0] == '-' || value <= 0) {
    return Status::InvalidArgument(std::string(what) + " \"" + std::string(field) +
                                   "\" is not a positive decimal number of microseconds");
  }
  return value;
}

Result<std::optional<int64_t>> ParseOptionalTime(std::string_view field, std::string_view what) {
  if (field.empty()) return std::optional<int64_t>();
  TL_ASSIGN_OR_RETURN(int64_t value, ParseTime(field, what));
  return std::optional<int64_t>(value);
}

Result<TokenRecord> ParseRecord(std::string_view line) {
  const std::vector<std::string_view> fields = SplitTabs(line);
  if (fields.size() != kFieldsPerRecord) {
    return Status::InvalidArgument("has " + std::to_string(fields.size()) + " fields, want " +
                                   std::to_string(kFieldsPerRecord));
  }
  TokenRecord record;
  record.token_id = std::string(fields[0]);
  TL_ASSIGN_OR_RETURN(record.role, ParseRole(fields[1]));
  record.party = std::string(fields[2]);
  TL_ASSIGN_OR_RETURN(record.created_unix_micros, ParseTime(fields[3], "created time"));
  TL_ASSIGN_OR_RETURN(record.expires_unix_micros, ParseOptionalTime(fields[4], "expiry time"));
  TL_ASSIGN_OR_RETURN(record.revoked_unix_micros,
                      ParseOptionalTime(fields[5], "revocation time"));
  if (fields[6].size() != 2 * kSha256DigestBytes || !IsLowerHex(fields[6])) {
    return Status::InvalidArgument("token hash is not 64 lowercase hex digits");
  }
  TL_ASSIGN_OR_RETURN(record.token_sha256, DigestFromHex(fields[6]));
  record.name = std::string(fields[7]);
  TL_RETURN_IF_ERROR(ValidateRecord(record));
  return record;
}

Result<std::vector<TokenRecord>> ParseFile(std::string_view content, const std::string& path) {
  std::vector<TokenRecord> records;
  if (content.empty()) {
    return Status::DataLoss(path + " is empty; want the header line \"" +
                            std::string(kFileMagic) + "\\t" + std::string(kFileVersion) + "\"");
  }
  if (content.back() != '\n') {
    return Status::DataLoss(path + " does not end with a newline (a torn write?)");
  }
  size_t start = 0;
  for (uint64_t number = 1; start < content.size(); ++number) {
    const size_t newline = content.find('\n', start);
    TL_ASSERT(newline != std::string_view::npos);  // content ends with '\n'
    const std::string_view line = content.substr(start, newline - start);
    start = newline + 1;
    const std::string where = path + " line " + std::to_string(number);
    if (number == 1) {
      const std::vector<std::string_view> header = SplitTabs(line);
      if (header.size() != 2 || header[0] != kFileMagic) {
        return Status::DataLoss(where + ": not a token file header; want \"" +
                                std::string(kFileMagic) + "\\t" + std::string(kFileVersion) +
                                "\"");
      }
      if (header[1] != kFileVersion) {
        return Status::FailedPrecondition(where + ": format version \"" +
                                          std::string(header[1]) + "\", this build reads " +
                                          std::string(kFileVersion));
      }
      continue;
    }
    if (records.size() >= kMaxTokens) {
      return Status::DataLoss(where + ": more than " + std::to_string(kMaxTokens) + " tokens");
    }
    auto record = ParseRecord(line);
    if (!record.ok()) return Status::DataLoss(where + ": " + record.status().message());
    records.push_back(std::move(record).value());
  }
  return records;
}

Status SyncDirectory(const std::string& dir) {
  FileDescriptor fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoStatus("cannot open directory " + dir);
  if (::fsync(fd.get()) != 0) return ErrnoStatus("cannot sync directory " + dir);
  return Status::Ok();
}

Status RandomBytes(unsigned char* out, size_t size) {
  if (RAND_bytes(out, static_cast<int>(size)) != 1) {
    char error[256];
    ERR_error_string_n(ERR_get_error(), error, sizeof(error));
    return Status::Internal(std::string("RAND_bytes failed: ") + error);
  }
  return Status::Ok();
}

Result<std::string> RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  TL_RETURN_IF_ERROR(RandomBytes(reinterpret_cast<unsigned char*>(raw.data()), raw.size()));
  std::string hex = HexEncode(raw);
  OPENSSL_cleanse(raw.data(), raw.size());
  return hex;
}

int64_t TimespecNanos(const struct timespec& t) {
  return static_cast<int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

}  // namespace

std::string TokensPath(const std::string& data_dir) { return data_dir + "/tokens"; }
std::string TokensLockPath(const std::string& data_dir) { return data_dir + "/tokens.lock"; }

std::string FormatUnixMicros(int64_t unix_micros) {
  const std::time_t seconds = static_cast<std::time_t>(unix_micros / 1'000'000);
  std::tm utc{};
  if (::gmtime_r(&seconds, &utc) == nullptr) return std::to_string(unix_micros) + "us";
  char text[32];
  const size_t n = std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &utc);
  if (n == 0) return std::to_string(unix_micros) + "us";
  return std::string(text, n);
}

TokenStore::TokenStore(std::string data_dir, TokenStoreOptions options)
    : data_dir_(std::move(data_dir)),
      path_(TokensPath(data_dir_)),
      options_(std::move(options)),
      snapshot_(std::make_shared<const Snapshot>()) {}

TokenStore::~TokenStore() = default;

Result<std::unique_ptr<TokenStore>> TokenStore::Open(const std::string& data_dir,
                                                     TokenStoreOptions options) {
  struct stat dir_stat {};
  if (::stat(data_dir.c_str(), &dir_stat) != 0) {
    return ErrnoStatus("data directory " + data_dir);
  }
  if (!S_ISDIR(dir_stat.st_mode)) {
    return Status::NotFound("data directory " + data_dir + " is not a directory");
  }
  if (!options.clock_unix_micros) options.clock_unix_micros = SystemClockMicros;
  std::unique_ptr<TokenStore> store(new TokenStore(data_dir, std::move(options)));
  TL_RETURN_IF_ERROR(store->Reload());
  return store;
}

Result<TokenStore::FileIdentity> TokenStore::StatFile(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return FileIdentity{};
    return ErrnoStatus("cannot stat " + path);
  }
  FileIdentity identity;
  identity.exists = true;
  identity.device = st.st_dev;
  identity.inode = st.st_ino;
  identity.size = st.st_size;
  identity.mtime_ns = TimespecNanos(st.st_mtim);
  identity.ctime_ns = TimespecNanos(st.st_ctim);
  return identity;
}

Result<std::shared_ptr<const TokenStore::Snapshot>> TokenStore::LoadFile() const {
  auto snapshot = std::make_shared<Snapshot>();
  FileDescriptor fd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return std::shared_ptr<const Snapshot>(std::move(snapshot));
    return ErrnoStatus("cannot open " + path_);
  }
  // The identity and the bytes come from the same open file, so a concurrent rename cannot
  // pair new bytes with an old identity (which would hide the next change).
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus("cannot stat " + path_);
  if (static_cast<uint64_t>(st.st_size) > kMaxTokensFileBytes) {
    return Status::DataLoss(path_ + " has " + std::to_string(st.st_size) + " bytes, more than " +
                            std::to_string(kMaxTokensFileBytes));
  }
  snapshot->identity = {true,
                        st.st_dev,
                        st.st_ino,
                        st.st_size,
                        TimespecNanos(st.st_mtim),
                        TimespecNanos(st.st_ctim)};
  std::string content(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::read(fd.get(), content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("cannot read " + path_);
    if (n == 0) return Status::Unavailable(path_ + " shrank while being read");
    done += static_cast<size_t>(n);
  }
  TL_ASSIGN_OR_RETURN(snapshot->records, ParseFile(content, path_));
  for (size_t i = 0; i < snapshot->records.size(); ++i) {
    const auto [it, inserted] = snapshot->index_by_id.emplace(snapshot->records[i].token_id, i);
    if (!inserted) {
      return Status::DataLoss(path_ + " line " + std::to_string(i + 2) + ": token id " +
                              it->first + " appears twice");
    }
  }
  return std::shared_ptr<const Snapshot>(std::move(snapshot));
}

std::shared_ptr<const TokenStore::Snapshot> TokenStore::snapshot() const {
  std::lock_guard<std::mutex> lock(snapshot_mutex_);
  return snapshot_;
}

void TokenStore::Install(std::shared_ptr<const Snapshot> snapshot) {
  TL_ASSERT(snapshot != nullptr);
  std::lock_guard<std::mutex> lock(snapshot_mutex_);
  snapshot_ = std::move(snapshot);
}

Status TokenStore::Reload() {
  std::lock_guard<std::mutex> lock(load_mutex_);
  TL_ASSIGN_OR_RETURN(auto loaded, LoadFile());
  Install(std::move(loaded));
  return Status::Ok();
}

Status TokenStore::ReloadIfChanged() {
  TL_ASSIGN_OR_RETURN(FileIdentity on_disk, StatFile(path_));
  if (on_disk == snapshot()->identity) return Status::Ok();
  std::lock_guard<std::mutex> lock(load_mutex_);
  // Another thread may have reloaded while this one waited.
  if (on_disk == snapshot()->identity) return Status::Ok();
  TL_ASSIGN_OR_RETURN(auto loaded, LoadFile());
  Install(std::move(loaded));
  return Status::Ok();
}

Status TokenStore::Rewrite(const std::function<Status(std::vector<TokenRecord>&)>& change) {
  std::lock_guard<std::mutex> lock(load_mutex_);
  const std::string lock_path = TokensLockPath(data_dir_);
  FileDescriptor lock_fd(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (lock_fd.get() < 0) return ErrnoStatus("cannot open " + lock_path);
  while (::flock(lock_fd.get(), LOCK_EX) != 0) {
    if (errno != EINTR) return ErrnoStatus("cannot lock " + lock_path);
  }
  // Re-read under the lock: another process may have written since this one loaded.
  TL_ASSIGN_OR_RETURN(auto current, LoadFile());
  std::vector<TokenRecord> records = current->records;
  TL_RETURN_IF_ERROR(change(records));
  for (const TokenRecord& record : records) {
    const Status valid = ValidateRecord(record);
    TL_ASSERT(valid.ok());
  }
  TL_RETURN_IF_ERROR(ledger::WriteFileAtomically(path_, Serialize(records), 0600,
                                                 ledger::Overwrite::kYes));
  TL_RETURN_IF_ERROR(SyncDirectory(data_dir_));
  // Read back what was written (pair assertion, and the new file's identity).
  TL_ASSIGN_OR_RETURN(auto written, LoadFile());
  TL_ASSERT(written->records == records);
  Install(std::move(written));
  return Status::Ok();
}

Result<IssuedToken> TokenStore::Issue(Role role, std::string_view party, std::string_view name,
                                      std::optional<std::chrono::seconds> ttl) {
  TL_RETURN_IF_ERROR(ValidateParty(role, party));
  TL_RETURN_IF_ERROR(ValidateName(name));
  if (ttl.has_value() && (ttl->count() <= 0 || *ttl > kMaxTokenTtl)) {
    return Status::InvalidArgument("token lifetime " + std::to_string(ttl->count()) +
                                   " s is not in 1.." + std::to_string(kMaxTokenTtl.count()) +
                                   " s");
  }
  TL_ASSIGN_OR_RETURN(std::string secret, RandomHex(kTokenSecretBytes));
  IssuedToken issued;
  Status status = Rewrite([&](std::vector<TokenRecord>& records) -> Status {
    if (records.size() >= kMaxTokens) {
      return Status::ResourceExhausted(path_ + " holds " + std::to_string(records.size()) +
                                       " tokens, the limit; remove revoked ones");
    }
    std::string token_id;
    for (int attempt = 0; attempt < kMaxIdAttempts && token_id.empty(); ++attempt) {
      TL_ASSIGN_OR_RETURN(std::string candidate, RandomHex(kTokenIdHexDigits / 2));
      bool taken = false;
      for (const TokenRecord& r : records) taken = taken || r.token_id == candidate;
      if (!taken) token_id = std::move(candidate);
    }
    if (token_id.empty()) return Status::Internal("no unused random token id after retries");
    TokenRecord record;
    record.token_id = token_id;
    record.role = role;
    record.party = std::string(party);
    record.name = std::string(name);
    record.created_unix_micros = options_.clock_unix_micros();
    if (ttl.has_value()) {
      record.expires_unix_micros =
          record.created_unix_micros +
          std::chrono::duration_cast<std::chrono::microseconds>(*ttl).count();
    }
    issued.token_text = std::string(kTokenPrefix) + token_id + "_" + secret;
    record.token_sha256 = ledger::Sha256(issued.token_text);
    issued.record = record;
    records.push_back(std::move(record));
    return Status::Ok();
  });
  OPENSSL_cleanse(secret.data(), secret.size());
  TL_RETURN_IF_ERROR(status);
  TL_ASSERT(issued.token_text.size() == kTokenTextBytes);
  return issued;
}

Result<TokenRecord> TokenStore::Revoke(std::string_view token_id) {
  TL_RETURN_IF_ERROR(ValidateTokenId(token_id));
  TokenRecord revoked;
  TL_RETURN_IF_ERROR(Rewrite([&](std::vector<TokenRecord>& records) -> Status {
    for (TokenRecord& r : records) {
      if (r.token_id != token_id) continue;
      if (!r.revoked_unix_micros.has_value()) {
        r.revoked_unix_micros = options_.clock_unix_micros();
      }
      revoked = r;
      return Status::Ok();
    }
    return Status::NotFound("no token with id " + std::string(token_id) + " in " + path_);
  }));
  return revoked;
}

Result<std::vector<TokenRecord>> TokenStore::List() {
  TL_RETURN_IF_ERROR(ReloadIfChanged());
  return snapshot()->records;
}

Result<Principal> TokenStore::Authenticate(std::string_view bearer) {
  // "tl_" + 16 hex + "_" + 64 hex. The text is never echoed: it may be a real secret with a
  // typo, or something the client should not have sent.
  const size_t id_start = kTokenPrefix.size();
  const size_t secret_start = id_start + kTokenIdHexDigits + 1;
  if (bearer.size() != kTokenTextBytes || !bearer.starts_with(kTokenPrefix) ||
      bearer[secret_start - 1] != '_' || !IsLowerHex(bearer.substr(id_start, kTokenIdHexDigits)) ||
      !IsLowerHex(bearer.substr(secret_start))) {
    return Status::InvalidArgument(
        "bearer token is malformed: want tl_<16 lowercase hex digits>_<64 lowercase hex "
        "digits> (" + std::to_string(kTokenTextBytes) + " characters), got " +
        std::to_string(bearer.size()) + " characters");
  }
  const std::string token_id(bearer.substr(id_start, kTokenIdHexDigits));
  TL_RETURN_IF_ERROR(ReloadIfChanged());
  const std::shared_ptr<const Snapshot> current = snapshot();
  const auto it = current->index_by_id.find(token_id);
  if (it == current->index_by_id.end()) {
    return Status::InvalidArgument("token " + token_id +
                                   " is unknown here (never issued for this data directory)");
  }
  const TokenRecord& record = current->records[it->second];
  const Sha256Digest presented = ledger::Sha256(bearer);
  static_assert(sizeof(presented) == kSha256DigestBytes);
  if (CRYPTO_memcmp(presented.data(), record.token_sha256.data(), kSha256DigestBytes) != 0) {
    return Status::InvalidArgument("token " + token_id + ": the secret does not match");
  }
  if (record.revoked_unix_micros.has_value()) {
    return Status::InvalidArgument("token " + token_id + " was revoked at " +
                                   FormatUnixMicros(*record.revoked_unix_micros));
  }
  if (record.expires_unix_micros.has_value() &&
      options_.clock_unix_micros() >= *record.expires_unix_micros) {
    return Status::InvalidArgument("token " + token_id + " expired at " +
                                   FormatUnixMicros(*record.expires_unix_micros));
  }
  return Principal{record.role, record.party, record.token_id};
}

}  // namespace traceledger::api
