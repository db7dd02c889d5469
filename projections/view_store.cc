#include "projections/view_store.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/write_batch_with_index.h>

#include <algorithm>
#include <filesystem>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

namespace traceledger::projections {
namespace {

Status FromRocksDb(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::Ok();
  std::string message = std::string(what) + ": " + s.ToString();
  if (s.IsNotFound()) return Status::NotFound(std::move(message));
  if (s.IsCorruption()) return Status::DataLoss(std::move(message));
  if (s.IsIOError() || s.IsBusy()) return Status::Unavailable(std::move(message));
  return Status::Internal(std::move(message));
}

rocksdb::ColumnFamilyOptions ViewOptions(const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions options;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  options.write_buffer_size = size_t{32} << 20;
  options.compression = rocksdb::kLZ4Compression;
  options.level_compaction_dynamic_level_bytes = true;
  return options;
}

}  // namespace

std::string DeterministicBytes(const google::protobuf::Message& message) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// ViewReader / ViewRows

Result<std::optional<std::string>> ViewReader::Get(std::string_view key) const {
  std::string value;
  const rocksdb::Slice k(key.data(), key.size());
  rocksdb::Status s = batch_ != nullptr
                          ? batch_->GetFromBatchAndDB(db_, rocksdb::ReadOptions(), family_, k, &value)
                          : db_->Get(rocksdb::ReadOptions(), family_, k, &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  TL_RETURN_IF_ERROR(FromRocksDb(s, "reading a view row"));
  return std::optional<std::string>(std::move(value));
}

Status ViewReader::Scan(std::string_view prefix,
                        const std::function<bool(std::string_view, std::string_view)>& visit) const {
  rocksdb::ReadOptions read_options;
  std::unique_ptr<rocksdb::Iterator> base(db_->NewIterator(read_options, family_));
  std::unique_ptr<rocksdb::Iterator> it(
      batch_ != nullptr ? batch_->NewIteratorWithBase(family_, base.release()) : base.release());
  for (it->Seek(rocksdb::Slice(prefix.data(), prefix.size())); it->Valid(); it->Next()) {
    const std::string_view key = it->key().ToStringView();
    if (key.substr(0, prefix.size()) != prefix) break;
    if (!visit(key, it->value().ToStringView())) break;
  }
  return FromRocksDb(it->status(), "scanning a view");
}

void ViewRows::Put(std::string_view key, std::string_view value) {
  TL_ASSERT(!key.empty());
  TL_ASSERT(key[0] != '\0');  // 0x00 keys are the cursor's
  TL_ASSERT(batch_->Put(family_, rocksdb::Slice(key.data(), key.size()),
                        rocksdb::Slice(value.data(), value.size()))
                .ok());
}

void ViewRows::Delete(std::string_view key) {
  TL_ASSERT(batch_->Delete(family_, rocksdb::Slice(key.data(), key.size())).ok());
}

const ViewReader& ViewRows::Dependency(std::string_view name) const {
  for (const auto& [dependency, reader] : dependencies_) {
    if (dependency == name) return reader;
  }
  TL_ASSERT(false && "a projection read a view it did not declare in dependencies()");
  return *this;
}

// ---------------------------------------------------------------------------------------------
// ViewStore

Result<std::unique_ptr<ViewStore>> ViewStore::Open(const std::string& dir,
                                                   const std::vector<std::string>& views,
                                                   Mode mode) {
  std::unique_ptr<ViewStore> store(new ViewStore());
  store->read_only_ = mode == Mode::kReadOnly;
  store->cache_ = rocksdb::NewLRUCache(size_t{128} << 20);
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = !store->read_only_;
  db_options.create_missing_column_families = !store->read_only_;
  db_options.max_background_jobs = 2;
  db_options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  db_options.keep_log_file_num = 3;
  std::vector<std::string> names = {rocksdb::kDefaultColumnFamilyName};
  if (store->read_only_) {
    std::vector<std::string> existing;
    TL_RETURN_IF_ERROR(FromRocksDb(rocksdb::DB::ListColumnFamilies(db_options, dir, &existing),
                                   "listing views in " + dir));
    for (const std::string& view : views) {
      if (std::find(existing.begin(), existing.end(), view) != existing.end()) names.push_back(view);
    }
  } else {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    names.insert(names.end(), views.begin(), views.end());
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : names) {
    descriptors.emplace_back(name, ViewOptions(store->cache_));
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  const rocksdb::Status s =
      store->read_only_
          ? rocksdb::DB::OpenForReadOnly(db_options, dir, descriptors, &handles, &raw)
          : rocksdb::DB::Open(db_options, dir, descriptors, &handles, &raw);
  TL_RETURN_IF_ERROR(FromRocksDb(s, "opening the views database " + dir));
  store->db_.reset(raw);
  for (size_t i = 0; i < handles.size(); ++i) store->families_[names[i]] = handles[i];
  return store;
}

ViewStore::~ViewStore() {
  if (db_ == nullptr) return;
  for (auto& [name, handle] : families_) {
    // Why: freeing handles at shutdown cannot lose anything.
    db_->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
  }
  db_->Close().PermitUncheckedError();  // Why: views are rebuilt from the ledger if needed.
}

rocksdb::ColumnFamilyHandle* ViewStore::family(std::string_view view) const {
  std::lock_guard<std::mutex> lock(families_mu_);
  auto it = families_.find(view);
  return it == families_.end() ? nullptr : it->second;
}

ViewReader ViewStore::Reader(std::string_view view) const {
  rocksdb::ColumnFamilyHandle* handle = family(view);
  TL_ASSERT(handle != nullptr);
  return ViewReader(db_.get(), handle, nullptr);
}

Result<std::optional<v1::ProjectionCursor>> ViewStore::Cursor(std::string_view view) const {
  if (family(view) == nullptr) return std::optional<v1::ProjectionCursor>();
  return Reader(view).GetMessage<v1::ProjectionCursor>(kCursorKey);
}

Status ViewStore::Reset(std::string_view view) {
  if (read_only_) return Status::FailedPrecondition("views database is open read-only");
  std::lock_guard<std::mutex> lock(families_mu_);
  auto it = families_.find(view);
  if (it == families_.end()) return Status::NotFound("no view " + std::string(view));
  TL_RETURN_IF_ERROR(FromRocksDb(db_->DropColumnFamily(it->second), "dropping view"));
  TL_RETURN_IF_ERROR(FromRocksDb(db_->DestroyColumnFamilyHandle(it->second), "dropping view"));
  rocksdb::ColumnFamilyHandle* handle = nullptr;
  TL_RETURN_IF_ERROR(FromRocksDb(
      db_->CreateColumnFamily(ViewOptions(cache_), std::string(view), &handle), "recreating view"));
  it->second = handle;
  return Status::Ok();
}

Status ViewStore::ForEach(std::string_view view,
                          const std::function<bool(std::string_view, std::string_view)>& visit) const {
  rocksdb::ColumnFamilyHandle* handle = family(view);
  if (handle == nullptr) return Status::NotFound("no view " + std::string(view));
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), handle));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (!visit(it->key().ToStringView(), it->value().ToStringView())) break;
  }
  return FromRocksDb(it->status(), "reading a view");
}

}  // namespace traceledger::projections
