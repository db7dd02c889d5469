// File: ledger/testing/faulty_file_system.h
//
// A RocksDB FileSystem that can be told to fail writes and syncs of the WAL (*.log files), the
// way a full or failing disk does, to test the ledger's failure model. Test-only.
#ifndef TRACELEDGER_LEDGER_TESTING_FAULTY_FILE_SYSTEM_H_
#define TRACELEDGER_LEDGER_TESTING_FAULTY_FILE_SYSTEM_H_

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <atomic>
#include <memory>
#include <string>

namespace traceledger::ledger::testing {

class FaultyFileSystem : public rocksdb::FileSystemWrapper {
 public:
  FaultyFileSystem() : rocksdb::FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  static const char* kClassName() { return "TraceledgerFaultyFileSystem"; }
  const char* Name() const override { return kClassName(); }

  // From now on every WAL append and sync fails with an I/O error.
  void FailWal(bool fail) { fail_wal_->store(fail); }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->NewWritableFile(name, options, result, dbg);
    if (s.ok() && name.size() > 4 && name.compare(name.size() - 4, 4, ".log") == 0) {
      *result = std::make_unique<FaultyFile>(std::move(*result), fail_wal_);
    }
    return s;
  }

 private:
  class FaultyFile : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    FaultyFile(std::unique_ptr<rocksdb::FSWritableFile> file,
               std::shared_ptr<std::atomic<bool>> fail)
        : rocksdb::FSWritableFileOwnerWrapper(std::move(file)), fail_(std::move(fail)) {}
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override {
      if (*fail_) return rocksdb::IOStatus::IOError("injected WAL append failure");
      return FSWritableFileOwnerWrapper::Append(data, options, dbg);
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                             const rocksdb::DataVerificationInfo& info,
                             rocksdb::IODebugContext* dbg) override {
      if (*fail_) return rocksdb::IOStatus::IOError("injected WAL append failure");
      return FSWritableFileOwnerWrapper::Append(data, options, info, dbg);
    }
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
      if (*fail_) return rocksdb::IOStatus::IOError("injected WAL sync failure");
      return FSWritableFileOwnerWrapper::Sync(options, dbg);
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                            rocksdb::IODebugContext* dbg) override {
      if (*fail_) return rocksdb::IOStatus::IOError("injected WAL sync failure");
      return FSWritableFileOwnerWrapper::Fsync(options, dbg);
    }

   private:
    std::shared_ptr<std::atomic<bool>> fail_;
  };

  std::shared_ptr<std::atomic<bool>> fail_wal_ = std::make_shared<std::atomic<bool>>(false);
};

}  // namespace traceledger::ledger::testing

#endif  // TRACELEDGER_LEDGER_TESTING_FAULTY_FILE_SYSTEM_H_
