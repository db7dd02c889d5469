#include "ledger/sha256.h"

#include <openssl/evp.h>

#include <memory>

#include "ledger/base/assert.h"

namespace traceledger::ledger {
namespace {

static_assert(kSha256DigestBytes == 32);

struct EvpMdDeleter {
  void operator()(EVP_MD* md) const { EVP_MD_free(md); }
};
struct EvpMdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

const EVP_MD* Sha256Algorithm() {
  // Fetched once: implicit fetches on every EVP_DigestInit cost more than hashing 300 bytes.
  static const std::unique_ptr<EVP_MD, EvpMdDeleter> md(EVP_MD_fetch(nullptr, "SHA256", nullptr));
  TL_ASSERT(md != nullptr);
  return md.get();
}

EVP_MD_CTX* ThreadContext() {
  thread_local std::unique_ptr<EVP_MD_CTX, EvpMdCtxDeleter> ctx(EVP_MD_CTX_new());
  TL_ASSERT(ctx != nullptr);
  return ctx.get();
}

}  // namespace

Sha256Digest Sha256(std::initializer_list<std::string_view> parts) {
  EVP_MD_CTX* ctx = ThreadContext();
  // OpenSSL failures here mean memory exhaustion or a broken provider: not recoverable.
  TL_ASSERT(EVP_DigestInit_ex2(ctx, Sha256Algorithm(), nullptr) == 1);
  for (std::string_view part : parts) {
    TL_ASSERT(EVP_DigestUpdate(ctx, part.data(), part.size()) == 1);
  }
  Sha256Digest digest;
  unsigned int length = 0;
  TL_ASSERT(EVP_DigestFinal_ex(ctx, digest.data(), &length) == 1);
  TL_ASSERT(length == kSha256DigestBytes);
  return digest;
}

}  // namespace traceledger::ledger
