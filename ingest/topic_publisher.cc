#include "ingest/topic_publisher.h"

#include <algorithm>
#include <charconv>

#include "ingest/event_decoder.h"
#include "ingest/event_validator.h"
#include "ingest/logging.h"
#include "ledger/base/encoding.h"
#include "ledger/merkle/hasher.h"
#include "tl/v1/events.pb.h"
#include "tl/v1/ledger.pb.h"

namespace traceledger::ingest {
namespace {

constexpr std::chrono::milliseconds kIdleWait{200};
constexpr std::chrono::milliseconds kRetryBackoff{1000};

class LedgerEntries : public Outbox {
 public:
  explicit LedgerEntries(const ledger::Ledger& ledger) : ledger_(ledger) {}
  std::string_view name() const override { return "ledger"; }
  uint64_t committed() const override { return ledger_.size(); }
  Status Read(uint64_t from, size_t max, std::vector<OutboxMessage>* out) const override {
    Status decode_error;
    TL_RETURN_IF_ERROR(ledger_.ScanEntries(
        from, from + max, [&](uint64_t sequence, std::string_view bytes) {
          v1::LedgerEntry entry;
          if (!entry.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
            decode_error = Status::DataLoss("entry " + std::to_string(sequence) +
                                            " does not decode");
            return false;
          }
          OutboxMessage message;
          message.sequence = sequence;
          // The entry was validated when it was appended: decode only to find its key (a plain
          // parse for protobuf, the strict decoder for the text encodings).
          std::vector<std::string> ids;
          if (entry.event_encoding() == v1::EVENT_ENCODING_PROTOBUF) {
            v1::Event event;
            if (event.ParseFromString(entry.event())) ids = ObjectIdsOf(event);
          } else if (auto event = DecodeEvent(entry.event(), entry.event_encoding()); event.ok()) {
            ids = ObjectIdsOf(*event);
          }
          message.key = ids.empty() ? entry.event_id() : ids.front();
          message.value = std::string(bytes);
          message.headers = {{"traceledger-leaf-hash", HexEncode(ledger::merkle::HashLeaf(bytes))},
                             {"traceledger-event-id", entry.event_id()}};
          out->push_back(std::move(message));
          return true;
        }));
    return decode_error;
  }
  bool WaitForMore(uint64_t seen, std::chrono::milliseconds timeout) const override {
    return ledger_.WaitForCommit(seen, ledger_.rejection_count(), timeout) &&
           ledger_.size() > seen;
  }

 private:
  const ledger::Ledger& ledger_;
};

class Rejections : public Outbox {
 public:
  explicit Rejections(const ledger::Ledger& ledger) : ledger_(ledger) {}
  std::string_view name() const override { return "rejected"; }
  uint64_t committed() const override { return ledger_.rejection_count(); }
  Status Read(uint64_t from, size_t max, std::vector<OutboxMessage>* out) const override {
    Status decode_error;
    TL_RETURN_IF_ERROR(ledger_.ScanRejections(
        from, from + max, [&](uint64_t sequence, std::string_view bytes) {
          v1::Rejection rejection;
          if (!rejection.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
            decode_error = Status::DataLoss("rejection " + std::to_string(sequence) +
                                            " does not decode");
            return false;
          }
          OutboxMessage message;
          message.sequence = sequence;
          message.key = !rejection.key().empty() ? rejection.key() : rejection.event_id();
          message.value = rejection.payload();
          for (const v1::Header& header : rejection.headers()) {
            message.headers.emplace_back(header.name(), header.value());
          }
          message.headers.emplace_back("traceledger-rule", rejection.rule());
          message.headers.emplace_back("traceledger-field", rejection.field());
          message.headers.emplace_back("traceledger-reason", rejection.reason());
          message.headers.emplace_back("traceledger-event-id", rejection.event_id());
          if (rejection.source().has_kafka()) {
            const v1::KafkaRecord& kafka = rejection.source().kafka();
            message.headers.emplace_back("traceledger-source-topic", kafka.topic());
            message.headers.emplace_back("traceledger-source-partition",
                                         std::to_string(kafka.partition()));
            message.headers.emplace_back("traceledger-source-offset",
                                         std::to_string(kafka.offset()));
          }
          out->push_back(std::move(message));
          return true;
        }));
    return decode_error;
  }
  bool WaitForMore(uint64_t seen, std::chrono::milliseconds timeout) const override {
    return ledger_.WaitForCommit(ledger_.size(), seen, timeout) &&
           ledger_.rejection_count() > seen;
  }

 private:
  const ledger::Ledger& ledger_;
};

Result<uint64_t> ParseSequence(const std::string& text) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return Status::FailedPrecondition("header " + std::string(kSequenceHeader) + " \"" + text +
                                      "\" is not a sequence number");
  }
  return value;
}

}  // namespace

std::unique_ptr<Outbox> LedgerEntriesOutbox(const ledger::Ledger& ledger) {
  return std::make_unique<LedgerEntries>(ledger);
}

std::unique_ptr<Outbox> RejectionsOutbox(const ledger::Ledger& ledger) {
  return std::make_unique<Rejections>(ledger);
}

TopicPublisher::TopicPublisher(const Outbox& outbox, PublisherOptions options)
    : outbox_(outbox), options_(std::move(options)) {}

TopicPublisher::~TopicPublisher() {
  // Why: a destructor cannot report; Stop() was called by owners that care about the flush.
  Stop(std::chrono::milliseconds(0)).IgnoreError();
}

Result<std::unique_ptr<TopicPublisher>> TopicPublisher::Start(const Outbox& outbox,
                                                              PublisherOptions options) {
  if (options.brokers.empty() || options.topic.empty()) {
    return Status::InvalidArgument("publisher needs brokers and a topic");
  }
  std::unique_ptr<TopicPublisher> publisher(new TopicPublisher(outbox, std::move(options)));
  publisher->thread_ = std::thread([p = publisher.get()] {
    pthread_setname_np(pthread_self(), "tl-publish");
    p->Loop();
  });
  return publisher;
}

void TopicPublisher::OnDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  auto* self = static_cast<TopicPublisher*>(opaque);
  const auto sequence = reinterpret_cast<uintptr_t>(message->_private);
  std::lock_guard<std::mutex> lock(self->delivery_mu_);
  if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (self->delivery_error_.ok()) {
      self->delivery_error_ = KafkaStatus(message->err, "delivering " +
                                                            std::string(self->outbox_.name()) +
                                                            " item " + std::to_string(sequence));
    }
    return;
  }
  if (message->partition < 0 ||
      static_cast<size_t>(message->partition) >= self->pending_.size()) {
    return;
  }
  std::deque<uint64_t>& pending = self->pending_[static_cast<size_t>(message->partition)];
  // The idempotent producer reports deliveries in order within a partition.
  TL_ASSERT(!pending.empty());
  TL_ASSERT(pending.front() == sequence);
  pending.pop_front();
  self->UpdatePublished();
}

void TopicPublisher::UpdatePublished() {
  uint64_t watermark = considered_;
  for (const std::deque<uint64_t>& pending : pending_) {
    if (!pending.empty()) watermark = std::min(watermark, pending.front());
  }
  published_.store(watermark, std::memory_order_release);
}

uint64_t TopicPublisher::lag() const {
  const uint64_t committed = outbox_.committed();
  const uint64_t done = published();
  return committed > done ? committed - done : 0;
}

std::string TopicPublisher::last_error() const {
  std::lock_guard<std::mutex> lock(delivery_mu_);
  return last_error_;
}

Status TopicPublisher::Recover() {
  const auto timeout = options_.broker_timeout;
  KafkaConfig config = {
      {"bootstrap.servers", options_.brokers},
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"linger.ms", "5"},
      {"batch.num.messages", "10000"},
      {"compression.type", "lz4"},
      {"message.timeout.ms", "0"},  // retry for ever: publishing may lag, never skip
      {"queue.buffering.max.messages", "200000"},
  };
  config.insert(config.end(), options_.producer_config.begin(), options_.producer_config.end());
  TL_ASSIGN_OR_RETURN(producer_, NewKafkaClient(RD_KAFKA_PRODUCER, config,
                                                [this](rd_kafka_conf_t* conf) {
                                                  rd_kafka_conf_set_dr_msg_cb(conf, OnDelivery);
                                                  rd_kafka_conf_set_opaque(conf, this);
                                                }));
  TL_RETURN_IF_ERROR(EnsureKafkaTopic(producer_.get(), options_.topic,
                                      options_.partitions_if_created,
                                      options_.replication_factor_if_created, timeout));
  TL_ASSIGN_OR_RETURN(partitions_, KafkaPartitionCount(producer_.get(), options_.topic, timeout));

  // Read the last message of every partition: its sequence header says how far that
  // partition got.
  TL_ASSIGN_OR_RETURN(KafkaHandle reader,
                      NewKafkaClient(RD_KAFKA_CONSUMER, {{"bootstrap.servers", options_.brokers},
                                                         {"group.id", "traceledger-recovery"},
                                                         {"enable.auto.commit", "false"},
                                                         {"enable.partition.eof", "true"}}));
  last_in_partition_.assign(static_cast<size_t>(partitions_), -1);
  for (int32_t p = 0; p < partitions_; ++p) {
    int64_t low = 0;
    int64_t high = 0;
    TL_RETURN_IF_ERROR(KafkaStatus(
        rd_kafka_query_watermark_offsets(reader.get(), options_.topic.c_str(), p, &low, &high,
                                         static_cast<int>(timeout.count())),
        "watermarks of " + options_.topic + "/" + std::to_string(p)));
    if (high <= low) continue;
    PartitionList list(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(list.get(), options_.topic.c_str(), p)->offset = high - 1;
    TL_RETURN_IF_ERROR(KafkaStatus(rd_kafka_assign(reader.get(), list.get()), "assign"));
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    bool found = false;
    while (!found && std::chrono::steady_clock::now() < deadline) {
      KafkaMessage message(rd_kafka_consumer_poll(reader.get(), 100));
      if (message == nullptr) continue;
      if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) break;
      if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;  // transient; poll again
      const auto header = KafkaHeader(KafkaHeadersOf(message.get()), kSequenceHeader);
      if (!header.has_value()) {
        return Status::FailedPrecondition("topic " + options_.topic + " partition " +
                                          std::to_string(p) +
                                          " holds a message without a sequence header: not a "
                                          "traceledger " +
                                          std::string(outbox_.name()) + " topic");
      }
      TL_ASSIGN_OR_RETURN(uint64_t sequence, ParseSequence(*header));
      last_in_partition_[static_cast<size_t>(p)] = static_cast<int64_t>(sequence);
      found = true;
    }
    if (!found) {
      return Status::Unavailable("could not read the last message of " + options_.topic + "/" +
                                 std::to_string(p) + " within " +
                                 std::to_string(timeout.count()) + " ms");
    }
  }
  rd_kafka_consumer_close(reader.get());
  // Resume at the lowest sequence a partition may lack. Partitions that never received a
  // message do not bound it: whether an item belongs there is decided per item below.
  int64_t lowest = -1;
  bool any = false;
  for (int64_t last : last_in_partition_) {
    if (last < 0) continue;
    lowest = any ? std::min(lowest, last) : last;
    any = true;
  }
  next_ = any ? static_cast<uint64_t>(lowest + 1) : 0;
  // Items below next_ are in the topic, except ones that map to a partition that has never
  // received anything: rescan from 0 for those only if such partitions exist. That is rare
  // (fewer keys than partitions) and costs a read of the outbox, not a duplicate.
  if (std::find(last_in_partition_.begin(), last_in_partition_.end(), -1) !=
      last_in_partition_.end()) {
    next_ = 0;
  }
  {
    std::lock_guard<std::mutex> lock(delivery_mu_);
    pending_.assign(static_cast<size_t>(partitions_), {});
    considered_ = next_;
    delivery_error_ = Status::Ok();
    UpdatePublished();
  }
  IngestLog().info("publisher={} topic={} partitions={} resume_at={} committed={}",
                   outbox_.name(), options_.topic, partitions_, next_, outbox_.committed());
  return Status::Ok();
}

Status TopicPublisher::PublishFrom() {
  std::vector<OutboxMessage> items;
  while (!stop_.load()) {
    {
      std::lock_guard<std::mutex> lock(delivery_mu_);
      if (!delivery_error_.ok()) return delivery_error_;
    }
    rd_kafka_poll(producer_.get(), 0);  // serve delivery reports
    if (next_ >= outbox_.committed()) {
      outbox_.WaitForMore(next_, kIdleWait);
      continue;
    }
    items.clear();
    TL_RETURN_IF_ERROR(outbox_.Read(next_, options_.read_batch, &items));
    for (OutboxMessage& item : items) {
      TL_ASSERT(item.sequence == next_);
      const int32_t partition = KafkaPartitionFor(item.key, partitions_);
      if (static_cast<int64_t>(item.sequence) > last_in_partition_[static_cast<size_t>(partition)]) {
        item.headers.emplace_back(std::string(kSequenceHeader), std::to_string(item.sequence));
        {
          std::lock_guard<std::mutex> lock(delivery_mu_);
          pending_[static_cast<size_t>(partition)].push_back(item.sequence);
        }
        while (true) {
          rd_kafka_headers_t* headers = NewKafkaHeaders(item.headers);
          // librdkafka's RD_KAFKA_V_* macros type-check their arguments in GNU statement
          // expressions, which Clang's -Wpedantic reports (GCC accepts them in system headers).
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wgnu-statement-expression"
#endif
          const rd_kafka_resp_err_t err = rd_kafka_producev(
              producer_.get(), RD_KAFKA_V_TOPIC(options_.topic.c_str()),
              RD_KAFKA_V_PARTITION(partition),
              RD_KAFKA_V_KEY(item.key.data(), item.key.size()),
              RD_KAFKA_V_VALUE(item.value.data(), item.value.size()),
              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(headers),
              RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<uintptr_t>(item.sequence))),
              RD_KAFKA_V_END);
#if defined(__clang__)
#pragma clang diagnostic pop
#endif
          if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;  // the headers now belong to librdkafka
          rd_kafka_headers_destroy(headers);
          if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            return KafkaStatus(err, "producing " + std::string(outbox_.name()) + " item " +
                                        std::to_string(item.sequence));
          }
          rd_kafka_poll(producer_.get(), 100);  // back-pressure: wait for deliveries
          if (stop_.load()) return Status::Ok();
        }
      }
      ++next_;
      std::lock_guard<std::mutex> lock(delivery_mu_);
      considered_ = next_;
      UpdatePublished();
    }
  }
  return Status::Ok();
}

void TopicPublisher::Loop() {
  bool recovered = false;
  int failures = 0;
  while (!stop_.load()) {
    Status status = recovered ? PublishFrom() : Recover();
    if (status.ok()) {
      if (recovered) break;  // PublishFrom returns OK only when stopping
      recovered = true;
      failures = 0;
      continue;
    }
    if (stop_.load()) break;
    // Broker unreachable, a topic not ready yet, a failed delivery: start over from the
    // topic's tail with a new producer, so nothing is skipped and nothing is published twice.
    if (failures++ % 10 == 0) {
      IngestLog().warn("publisher={} topic={} error=\"{}\" action=retry attempt={}",
                       outbox_.name(), options_.topic, status.ToString(), failures);
    }
    {
      std::lock_guard<std::mutex> lock(delivery_mu_);
      last_error_ = status.ToString();
    }
    if (producer_ != nullptr) {
      rd_kafka_purge(producer_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
      rd_kafka_flush(producer_.get(), 1000);
      producer_.reset();
    }
    recovered = false;
    for (auto waited = std::chrono::milliseconds(0); waited < kRetryBackoff && !stop_.load();
         waited += std::chrono::milliseconds(50)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
}

Status TopicPublisher::Stop(std::chrono::milliseconds flush_timeout) {
  if (stop_.exchange(true)) return Status::Ok();
  if (thread_.joinable()) thread_.join();
  if (producer_ == nullptr) return Status::Ok();
  const rd_kafka_resp_err_t err =
      rd_kafka_flush(producer_.get(), static_cast<int>(flush_timeout.count()));
  if (err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
    return Status::Unavailable(std::string(outbox_.name()) + " publisher: " +
                               std::to_string(rd_kafka_outq_len(producer_.get())) +
                               " messages undelivered at shutdown; they are republished on the "
                               "next start");
  }
  return KafkaStatus(err, "flushing " + std::string(outbox_.name()) + " publisher");
}

}  // namespace traceledger::ingest
