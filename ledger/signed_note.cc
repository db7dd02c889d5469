#include "ledger/signed_note.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdio>

#include "ledger/base/encoding.h"
#include "ledger/sha256.h"

namespace traceledger::ledger {
namespace {

constexpr std::string_view kSignaturePrefix = "\xe2\x80\x94 ";  // U+2014 EM DASH, space
constexpr std::string_view kPrivateKeyPrefix = "PRIVATE+KEY+";
constexpr size_t kSeedBytes = 32;
constexpr size_t kKeyIdBytes = 4;

struct EvpPkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct EvpMdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyDeleter>;
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, EvpMdCtxDeleter>;

std::string KeyIdHex(uint32_t id) {
  char buf[9];
  std::snprintf(buf, sizeof(buf), "%08x", id);
  return buf;
}

std::string KeyIdBytes(uint32_t id) {
  return {static_cast<char>(id >> 24), static_cast<char>(id >> 16), static_cast<char>(id >> 8),
          static_cast<char>(id)};
}

uint32_t KeyIdFromBytes(std::string_view bytes) {
  return (uint32_t{static_cast<uint8_t>(bytes[0])} << 24) |
         (uint32_t{static_cast<uint8_t>(bytes[1])} << 16) |
         (uint32_t{static_cast<uint8_t>(bytes[2])} << 8) | uint32_t{static_cast<uint8_t>(bytes[3])};
}

Result<uint32_t> ParseKeyIdHex(std::string_view hex) {
  if (hex.size() != 8) {
    return Status::InvalidArgument("key id \"" + std::string(hex) + "\" is not 8 hex digits");
  }
  TL_ASSIGN_OR_RETURN(std::string bytes, HexDecode(hex));
  return KeyIdFromBytes(bytes);
}

// Splits "a+b+c" at the first n-1 '+' signs; the last part keeps the rest.
std::vector<std::string_view> SplitPlus(std::string_view text, size_t n) {
  std::vector<std::string_view> parts;
  while (parts.size() + 1 < n) {
    const size_t plus = text.find('+');
    if (plus == std::string_view::npos) break;
    parts.push_back(text.substr(0, plus));
    text.remove_prefix(plus + 1);
  }
  parts.push_back(text);
  return parts;
}

// C2SP: note text is UTF-8 without control characters other than newline, ending in newline.
Status ValidateNoteText(std::string_view text) {
  if (text.empty() || text.back() != '\n') {
    return Status::InvalidArgument("note text must end with a newline");
  }
  if (text.size() > kMaxNoteBytes) {
    return Status::InvalidArgument("note is larger than " + std::to_string(kMaxNoteBytes) +
                                   " bytes");
  }
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c < 0x20 && c != '\n') || c == 0x7f) {
      return Status::InvalidArgument("note text has control character 0x" +
                                     HexEncode(text.substr(i, 1)) + " at offset " +
                                     std::to_string(i));
    }
  }
  return Status::Ok();
}

}  // namespace

Status ValidateKeyName(std::string_view name) {
  if (name.empty()) return Status::InvalidArgument("key name is empty");
  for (char ch : name) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == 0x7f || c == '+') {
      return Status::InvalidArgument("key name \"" + std::string(name) +
                                     "\" contains a space, '+' or control character");
    }
  }
  return Status::Ok();
}

uint32_t ComputeKeyId(std::string_view name, uint8_t algorithm, std::string_view public_key) {
  const char alg = static_cast<char>(algorithm);
  const Sha256Digest digest = Sha256({name, "\n", std::string_view(&alg, 1), public_key});
  return KeyIdFromBytes(AsBytes(digest));
}

// ---------------------------------------------------------------------------------------------
// NoteSigner

struct NoteSigner::Key {
  EvpPkeyPtr pkey;
  std::string seed;        // 32 bytes (RFC 8032 private key)
  std::string public_key;  // 32 bytes
};

NoteSigner::NoteSigner(std::string name, std::shared_ptr<const Key> key)
    : name_(std::move(name)),
      key_id_(ComputeKeyId(name_, kAlgorithmEd25519, key->public_key)),
      key_(std::move(key)) {}

Result<NoteSigner> NoteSigner::Generate(std::string_view name) {
  TL_RETURN_IF_ERROR(ValidateKeyName(name));
  std::string seed(kSeedBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(seed.data()), static_cast<int>(seed.size())) !=
      1) {
    return Status::Internal("OpenSSL RAND_bytes failed");
  }
  TL_ASSIGN_OR_RETURN(std::shared_ptr<Key> key, MakeKey(std::move(seed)));
  return NoteSigner(std::string(name), std::move(key));
}

Result<NoteSigner> NoteSigner::FromPrivateKeyText(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  if (text.substr(0, kPrivateKeyPrefix.size()) != kPrivateKeyPrefix) {
    return Status::InvalidArgument("private key does not start with PRIVATE+KEY+");
  }
  text.remove_prefix(kPrivateKeyPrefix.size());
  const std::vector<std::string_view> parts = SplitPlus(text, 3);
  if (parts.size() != 3) {
    return Status::InvalidArgument("private key must be PRIVATE+KEY+<name>+<id>+<key>");
  }
  TL_RETURN_IF_ERROR(ValidateKeyName(parts[0]));
  TL_ASSIGN_OR_RETURN(uint32_t id, ParseKeyIdHex(parts[1]));
  TL_ASSIGN_OR_RETURN(std::string raw, Base64Decode(parts[2]));
  if (raw.size() != 1 + kSeedBytes || static_cast<uint8_t>(raw[0]) != kAlgorithmEd25519) {
    return Status::InvalidArgument("private key is not an Ed25519 key (0x01 + 32 bytes)");
  }
  TL_ASSIGN_OR_RETURN(std::shared_ptr<Key> key, MakeKey(raw.substr(1)));
  NoteSigner signer{std::string(parts[0]), std::move(key)};
  if (signer.key_id() != id) {
    return Status::InvalidArgument("private key id " + KeyIdHex(id) + " does not match its key (" +
                                   KeyIdHex(signer.key_id()) + ")");
  }
  return signer;
}

Result<std::shared_ptr<NoteSigner::Key>> NoteSigner::MakeKey(std::string seed) {
  auto key = std::make_shared<Key>();
  key->pkey.reset(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr,
                                               reinterpret_cast<const unsigned char*>(seed.data()),
                                               seed.size()));
  if (key->pkey == nullptr) return Status::Internal("OpenSSL could not load the Ed25519 key");
  key->seed = std::move(seed);
  size_t length = kEd25519PublicKeyBytes;
  key->public_key.assign(kEd25519PublicKeyBytes, '\0');
  if (EVP_PKEY_get_raw_public_key(key->pkey.get(),
                                  reinterpret_cast<unsigned char*>(key->public_key.data()),
                                  &length) != 1 ||
      length != kEd25519PublicKeyBytes) {
    return Status::Internal("OpenSSL could not derive the Ed25519 public key");
  }
  return key;
}

std::string NoteSigner::PrivateKeyText() const {
  return std::string(kPrivateKeyPrefix) + name_ + "+" + KeyIdHex(key_id_) + "+" +
         Base64Encode(std::string(1, static_cast<char>(kAlgorithmEd25519)) + key_->seed);
}

std::string NoteSigner::VerifierKeyText() const {
  return name_ + "+" + KeyIdHex(key_id_) + "+" +
         Base64Encode(std::string(1, static_cast<char>(kAlgorithmEd25519)) + key_->public_key);
}

Result<std::string> NoteSigner::SignBytes(std::string_view message) const {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (ctx == nullptr) return Status::Internal("OpenSSL EVP_MD_CTX_new failed");
  if (EVP_DigestSignInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr, key_->pkey.get(),
                            nullptr) != 1) {
    return Status::Internal("OpenSSL EVP_DigestSignInit_ex failed for Ed25519");
  }
  std::string signature(kEd25519SignatureBytes, '\0');
  size_t length = signature.size();
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1 ||
      length != kEd25519SignatureBytes) {
    return Status::Internal("OpenSSL Ed25519 signing failed");
  }
  return signature;
}

Result<std::string> NoteSigner::Sign(std::string_view text) const {
  TL_RETURN_IF_ERROR(ValidateNoteText(text));
  TL_ASSIGN_OR_RETURN(std::string signature, SignBytes(text));
  std::string note(text);
  note += "\n";
  note += kSignaturePrefix;
  note += name_;
  note += " ";
  note += Base64Encode(KeyIdBytes(key_id_) + signature);
  note += "\n";
  return note;
}

// ---------------------------------------------------------------------------------------------
// NoteVerifier

Result<NoteVerifier> NoteVerifier::FromVerifierKeyText(std::string_view vkey) {
  while (!vkey.empty() && (vkey.back() == '\n' || vkey.back() == '\r')) vkey.remove_suffix(1);
  const std::vector<std::string_view> parts = SplitPlus(vkey, 3);
  if (parts.size() != 3) {
    return Status::InvalidArgument("verifier key must be <name>+<id>+<key>");
  }
  TL_RETURN_IF_ERROR(ValidateKeyName(parts[0]));
  TL_ASSIGN_OR_RETURN(uint32_t id, ParseKeyIdHex(parts[1]));
  TL_ASSIGN_OR_RETURN(std::string raw, Base64Decode(parts[2]));
  if (raw.size() != 1 + kEd25519PublicKeyBytes ||
      static_cast<uint8_t>(raw[0]) != kAlgorithmEd25519) {
    return Status::InvalidArgument("verifier key is not an Ed25519 key (0x01 + 32 bytes)");
  }
  NoteVerifier verifier;
  verifier.name_ = std::string(parts[0]);
  verifier.public_key_ = raw.substr(1);
  verifier.key_id_ = ComputeKeyId(verifier.name_, kAlgorithmEd25519, verifier.public_key_);
  if (verifier.key_id_ != id) {
    return Status::InvalidArgument("verifier key id " + KeyIdHex(id) + " does not match its key (" +
                                   KeyIdHex(verifier.key_id_) + ")");
  }
  return verifier;
}

std::string NoteVerifier::VerifierKeyText() const {
  return name_ + "+" + KeyIdHex(key_id_) + "+" +
         Base64Encode(std::string(1, static_cast<char>(kAlgorithmEd25519)) + public_key_);
}

bool NoteVerifier::VerifyBytes(std::string_view message, std::string_view signature) const {
  if (signature.size() != kEd25519SignatureBytes) return false;
  EvpPkeyPtr pkey(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(public_key_.data()),
      public_key_.size()));
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (pkey == nullptr || ctx == nullptr) return false;
  if (EVP_DigestVerifyInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr, pkey.get(),
                              nullptr) != 1) {
    return false;
  }
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(message.data()),
                          message.size()) == 1;
}

// ---------------------------------------------------------------------------------------------
// Notes

Result<Note> ParseNote(std::string_view note) {
  if (note.size() > kMaxNoteBytes) {
    return Status::InvalidArgument("note is larger than " + std::to_string(kMaxNoteBytes) +
                                   " bytes");
  }
  // The text ends at the last blank line: signature lines never contain "\n\n".
  const size_t split = note.rfind("\n\n");
  if (split == std::string_view::npos) {
    return Status::InvalidArgument("note has no blank line before its signatures");
  }
  Note parsed;
  parsed.text = std::string(note.substr(0, split + 1));
  TL_RETURN_IF_ERROR(ValidateNoteText(parsed.text));
  std::string_view rest = note.substr(split + 2);
  if (rest.empty() || rest.back() != '\n') {
    return Status::InvalidArgument("note signatures must end with a newline");
  }
  size_t line_number = 0;
  while (!rest.empty()) {
    ++line_number;
    const size_t eol = rest.find('\n');
    std::string_view line = rest.substr(0, eol);
    rest.remove_prefix(eol + 1);
    const std::string where = "signature line " + std::to_string(line_number);
    if (line.substr(0, kSignaturePrefix.size()) != kSignaturePrefix) {
      return Status::InvalidArgument(where + " does not start with \"\u2014 \"");
    }
    line.remove_prefix(kSignaturePrefix.size());
    const size_t space = line.find(' ');
    if (space == std::string_view::npos) {
      return Status::InvalidArgument(where + " has no space between key name and signature");
    }
    NoteSignature sig;
    sig.name = std::string(line.substr(0, space));
    TL_RETURN_IF_ERROR(ValidateKeyName(sig.name).WithContext(where));
    auto raw = Base64Decode(line.substr(space + 1));
    if (!raw.ok()) return raw.status().WithContext(where);
    if (raw->size() <= kKeyIdBytes) {
      return Status::InvalidArgument(where + " is too short to hold a key id and signature");
    }
    sig.key_id = KeyIdFromBytes(*raw);
    sig.signature = raw->substr(kKeyIdBytes);
    parsed.signatures.push_back(std::move(sig));
    if (parsed.signatures.size() > kMaxNoteSignatures) {
      return Status::InvalidArgument("note has more than " + std::to_string(kMaxNoteSignatures) +
                                     " signatures");
    }
  }
  return parsed;
}

Result<std::string> OpenNote(std::string_view note, const NoteVerifier& verifier) {
  TL_ASSIGN_OR_RETURN(Note parsed, ParseNote(note));
  bool found = false;
  for (const NoteSignature& sig : parsed.signatures) {
    if (sig.name != verifier.name() || sig.key_id != verifier.key_id()) continue;
    found = true;
    if (verifier.VerifyBytes(parsed.text, sig.signature)) return std::move(parsed.text);
  }
  if (found) {
    return Status::InvalidArgument("signature by " + verifier.name() + "+" +
                                   KeyIdHex(verifier.key_id()) + " does not verify");
  }
  return Status::InvalidArgument("note has no signature by " + verifier.name() + "+" +
                                 KeyIdHex(verifier.key_id()));
}

}  // namespace traceledger::ledger
