#include "ledger/data_dir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace traceledger::ledger {
namespace {

Status ErrnoStatus(const std::string& what) {
  const int err = errno;
  std::string message = what + ": " + std::strerror(err);
  if (err == ENOENT) return Status::NotFound(std::move(message));
  if (err == EEXIST) return Status::AlreadyExists(std::move(message));
  if (err == EACCES || err == EPERM) return Status::FailedPrecondition(std::move(message));
  if (err == ENOSPC) return Status::ResourceExhausted(std::move(message));
  return Status::Unavailable(std::move(message));
}

}  // namespace

std::string DatabasePath(const std::string& data_dir) { return data_dir + "/db"; }
std::string SigningKeyPath(const std::string& data_dir) { return data_dir + "/checkpoint.key"; }
std::string VerifierKeyPath(const std::string& data_dir) { return data_dir + "/checkpoint.vkey"; }

Result<std::string> ReadFileToString(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return ErrnoStatus("cannot read " + path);
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) return ErrnoStatus("error reading " + path);
  return content.str();
}

Status WriteFileAtomically(const std::string& path, std::string_view content, unsigned mode,
                           Overwrite overwrite) {
  std::error_code ec;
  if (overwrite == Overwrite::kNo && std::filesystem::exists(path, ec)) {
    return Status::AlreadyExists(path + " already exists");
  }
  const std::string temp = path + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return ErrnoStatus("cannot create " + temp);
  size_t written = 0;
  while (written < content.size()) {
    const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      Status s = ErrnoStatus("cannot write " + temp);
      ::close(fd);
      return s;
    }
    written += static_cast<size_t>(n);
  }
  if (::fchmod(fd, mode) != 0 || ::fsync(fd) != 0) {
    Status s = ErrnoStatus("cannot sync " + temp);
    ::close(fd);
    return s;
  }
  if (::close(fd) != 0) return ErrnoStatus("cannot close " + temp);
  if (::rename(temp.c_str(), path.c_str()) != 0) return ErrnoStatus("cannot rename to " + path);
  return Status::Ok();
}

Result<std::unique_ptr<Ledger>> CreateDataDir(const std::string& data_dir,
                                              const std::string& origin, LedgerOptions options) {
  TL_RETURN_IF_ERROR(ValidateOrigin(origin));
  std::error_code ec;
  if (std::filesystem::exists(SigningKeyPath(data_dir), ec) ||
      std::filesystem::exists(DatabasePath(data_dir), ec)) {
    return Status::AlreadyExists(data_dir + " already holds a ledger or signing key");
  }
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return Status::Unavailable("cannot create " + data_dir + ": " + ec.message());
  TL_ASSIGN_OR_RETURN(NoteSigner signer, NoteSigner::Generate(origin));
  TL_RETURN_IF_ERROR(WriteFileAtomically(SigningKeyPath(data_dir), signer.PrivateKeyText() + "\n",
                                         0600, Overwrite::kNo));
  TL_RETURN_IF_ERROR(WriteFileAtomically(VerifierKeyPath(data_dir),
                                         signer.VerifierKeyText() + "\n", 0644, Overwrite::kNo));
  return Ledger::Create(DatabasePath(data_dir), origin, signer, std::move(options));
}

Result<std::unique_ptr<Ledger>> OpenDataDir(const std::string& data_dir, Access access,
                                            LedgerOptions options) {
  std::optional<NoteSigner> signer;
  if (access == Access::kReadWrite) {
    auto text = ReadFileToString(SigningKeyPath(data_dir));
    if (!text.ok()) {
      return text.status().WithContext("opening " + data_dir + " for writing (create it with "
                                       "`tracectl keygen --data " + data_dir + "`)");
    }
    auto parsed = NoteSigner::FromPrivateKeyText(*text);
    if (!parsed.ok()) return parsed.status().WithContext(SigningKeyPath(data_dir));
    signer = std::move(parsed).value();
  }
  return Ledger::Open(DatabasePath(data_dir), std::move(signer), std::move(options));
}

}  // namespace traceledger::ledger
