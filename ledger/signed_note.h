// File: ledger/signed_note.h
//
// C2SP signed-note v1.0.0 with Ed25519 (RFC 8032) through OpenSSL 3 (docs/formats/checkpoint.md):
//   <text ending in \n>\n— <key name> <base64(4-byte key id || 64-byte signature)>\n ...
// key id = first 4 bytes of SHA-256(name || "\n" || 0x01 || 32-byte public key), big-endian.
// Verifier key text: "<name>+<key id, 8 hex>+<base64(0x01 || public key)>".
// Private key text (golang.org/x/mod/sumdb/note): "PRIVATE+KEY+<name>+<id>+<base64(0x01 || seed)>".
//
// NoteSigner and NoteVerifier are immutable after creation and safe to share between threads.
#ifndef TRACELEDGER_LEDGER_SIGNED_NOTE_H_
#define TRACELEDGER_LEDGER_SIGNED_NOTE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/base/status.h"

namespace traceledger::ledger {

inline constexpr uint8_t kAlgorithmEd25519 = 0x01;  // signed-note signature type
inline constexpr size_t kEd25519PublicKeyBytes = 32;
inline constexpr size_t kEd25519SignatureBytes = 64;
inline constexpr size_t kMaxNoteSignatures = 100;   // C2SP: verifiers may reject more
inline constexpr size_t kMaxNoteBytes = 1 << 20;

// Key names must be non-empty, valid for a note line: no spaces, no '+', no control bytes.
Status ValidateKeyName(std::string_view name);
uint32_t ComputeKeyId(std::string_view name, uint8_t algorithm, std::string_view public_key);

class NoteSigner {
 public:
  // Generates a fresh Ed25519 key from OpenSSL's CSPRNG.
  static Result<NoteSigner> Generate(std::string_view name);
  // Parses the private key text. Returns InvalidArgument naming what is malformed.
  static Result<NoteSigner> FromPrivateKeyText(std::string_view text);

  const std::string& name() const { return name_; }
  uint32_t key_id() const { return key_id_; }
  std::string PrivateKeyText() const;
  std::string VerifierKeyText() const;

  // Returns the signed note: `text` followed by a blank line and this key's signature line.
  // Returns InvalidArgument if `text` is not a valid note text (must end in '\n', no control
  // characters but '\n', at most kMaxNoteBytes).
  Result<std::string> Sign(std::string_view text) const;
  // The raw 64-byte Ed25519 signature over `message`.
  Result<std::string> SignBytes(std::string_view message) const;

 private:
  struct Key;
  NoteSigner(std::string name, std::shared_ptr<const Key> key);
  static Result<std::shared_ptr<Key>> MakeKey(std::string seed);

  std::string name_;
  uint32_t key_id_ = 0;
  std::shared_ptr<const Key> key_;  // shared so the value is copyable; the key never changes
};

class NoteVerifier {
 public:
  // Parses verifier key text; checks the embedded key id against the name and key.
  static Result<NoteVerifier> FromVerifierKeyText(std::string_view vkey);

  const std::string& name() const { return name_; }
  uint32_t key_id() const { return key_id_; }
  const std::string& public_key() const { return public_key_; }
  std::string VerifierKeyText() const;
  bool VerifyBytes(std::string_view message, std::string_view signature) const;

 private:
  std::string name_;
  uint32_t key_id_ = 0;
  std::string public_key_;  // 32 raw bytes
};

struct NoteSignature {
  std::string name;
  uint32_t key_id = 0;
  std::string signature;  // after the 4-byte key id
};

struct Note {
  std::string text;  // everything before the blank line, including its final '\n'
  std::vector<NoteSignature> signatures;
};

// Splits a signed note into text and signature lines. InvalidArgument if malformed.
Result<Note> ParseNote(std::string_view note);

// Returns the note's text if it carries a valid signature by `verifier` (name and key id
// match and the signature verifies). Signatures by other keys are ignored, as C2SP requires.
// InvalidArgument if malformed, or if no signature by the key verifies (saying which).
Result<std::string> OpenNote(std::string_view note, const NoteVerifier& verifier);

}  // namespace traceledger::ledger

#endif  // TRACELEDGER_LEDGER_SIGNED_NOTE_H_
