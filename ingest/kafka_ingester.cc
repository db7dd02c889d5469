#include "ingest/kafka_ingester.h"

#include <variant>

#include "ingest/event_decoder.h"
#include "ingest/event_validator.h"
#include "ingest/logging.h"
#include "tl/v1/events.pb.h"

namespace traceledger::ingest {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kIdlePoll{100};
// Fatal consumer errors survived by replacing the consumer before giving up.
constexpr int kMaxConsumerReplacements = 100;

}  // namespace

std::string KafkaStream(std::string_view topic, int32_t partition) {
  return "kafka/" + std::string(topic) + "/" + std::to_string(partition);
}

struct KafkaIngester::Pending {
  ledger::AppendCall call;
  std::map<int32_t, int64_t> next_offsets;  // partition -> last offset in the batch + 1
  size_t messages = 0;
  Clock::time_point started;
};

KafkaIngester::KafkaIngester(ledger::Ledger& ledger, IngestOptions options)
    : ledger_(ledger), options_(std::move(options)), pending_(std::make_unique<Pending>()) {}

KafkaIngester::~KafkaIngester() = default;

int64_t KafkaIngester::NowMicros() const {
  if (options_.clock_unix_micros) return options_.clock_unix_micros();
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<std::unique_ptr<KafkaIngester>> KafkaIngester::Create(ledger::Ledger& ledger,
                                                             IngestOptions options) {
  if (ledger.read_only()) {
    return Status::FailedPrecondition("the ingester needs a writable ledger");
  }
  if (options.brokers.empty()) return Status::InvalidArgument("no Kafka brokers given");
  if (options.max_batch_messages == 0 ||
      options.max_batch_messages > ledger::LedgerOptions().max_batch_records) {
    return Status::InvalidArgument("max_batch_messages must be 1.." +
                                   std::to_string(ledger::LedgerOptions().max_batch_records));
  }
  if (options.max_batches_in_flight == 0) {
    return Status::InvalidArgument("max_batches_in_flight must be at least 1");
  }
  std::unique_ptr<KafkaIngester> ingester(new KafkaIngester(ledger, std::move(options)));
  TL_RETURN_IF_ERROR(ingester->Connect());
  return ingester;
}

Status KafkaIngester::Connect() {
  TL_RETURN_IF_ERROR(ConnectConsumer());
  if (options_.publish == Publishing::kOn) {
    ledger_outbox_ = LedgerEntriesOutbox(ledger_);
    rejection_outbox_ = RejectionsOutbox(ledger_);
    PublisherOptions ledger_options;
    ledger_options.brokers = options_.brokers;
    ledger_options.topic = options_.ledger_topic;
    ledger_options.producer_config = options_.producer_config;
    TL_ASSIGN_OR_RETURN(ledger_publisher_, TopicPublisher::Start(*ledger_outbox_, ledger_options));
    PublisherOptions rejected_options = ledger_options;
    rejected_options.topic = options_.rejected_topic;
    TL_ASSIGN_OR_RETURN(rejection_publisher_,
                        TopicPublisher::Start(*rejection_outbox_, rejected_options));
  }
  IngestLog().info("ingest topic={} group={} brokers={} ledger_size={} publish={}",
                   options_.topic, options_.group_id, options_.brokers, ledger_.size(),
                   options_.publish == Publishing::kOn ? "on" : "off");
  return Status::Ok();
}

Status KafkaIngester::ConnectConsumer() {
  KafkaConfig config = {
      {"bootstrap.servers", options_.brokers},
      {"group.id", options_.group_id},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", "earliest"},
      // Eager assignment: librdkafka 2.0.x has cooperative-rebalance bugs fixed only later.
      {"partition.assignment.strategy", "range"},
      {"enable.partition.eof", "false"},
  };
  config.insert(config.end(), options_.consumer_config.begin(), options_.consumer_config.end());
  TL_ASSIGN_OR_RETURN(consumer_, NewKafkaClient(RD_KAFKA_CONSUMER, config,
                                                [this](rd_kafka_conf_t* conf) {
                                                  rd_kafka_conf_set_rebalance_cb(
                                                      conf, RebalanceCallback);
                                                  rd_kafka_conf_set_opaque(conf, this);
                                                }));
  rd_kafka_poll_set_consumer(consumer_.get());
  PartitionList topics(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(topics.get(), options_.topic.c_str(), RD_KAFKA_PARTITION_UA);
  return KafkaStatus(rd_kafka_subscribe(consumer_.get(), topics.get()),
                     "subscribing to " + options_.topic);
}

Status KafkaIngester::ReplaceConsumer(const std::string& reason) {
  // A fatal consumer error (e.g. a static member fenced after a broker restart) ends that
  // librdkafka handle, not the ingestion: positions live in the ledger, so a new consumer
  // resumes exactly where the durable state is.
  IngestLog().warn("consumer fatal=\"{}\" action=replace_consumer", reason);
  Flush();
  Drain();
  {
    std::lock_guard<std::mutex> lock(mu_);
    durable_offsets_.clear();
  }
  consumer_.reset();  // rd_kafka_destroy; no group leave is possible after a fatal error
  return ConnectConsumer();
}

void KafkaIngester::RebalanceCallback(rd_kafka_t*, rd_kafka_resp_err_t err,
                                      rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  static_cast<KafkaIngester*>(opaque)->OnRebalance(err, partitions);
}

void KafkaIngester::OnRebalance(rd_kafka_resp_err_t err,
                                rd_kafka_topic_partition_list_t* partitions) {
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    // Resume every partition exactly where the ledger says it stopped.
    for (int i = 0; i < partitions->cnt; ++i) {
      rd_kafka_topic_partition_t& p = partitions->elems[i];
      auto stored = ledger_.GetSourcePosition(KafkaStream(p.topic, p.partition));
      if (!stored.ok()) {
        std::lock_guard<std::mutex> lock(mu_);
        if (fatal_.ok()) fatal_ = stored.status();
        return;
      }
      p.offset = stored->has_value() ? **stored : RD_KAFKA_OFFSET_BEGINNING;
      if (stored->has_value()) {
        // Durable already: report it to Kafka's lag tooling even if nothing new arrives.
        std::lock_guard<std::mutex> lock(mu_);
        durable_offsets_[p.partition] = **stored;
      }
      IngestLog().info("assign topic={} partition={} offset={}", p.topic, p.partition,
                       stored->has_value() ? std::to_string(**stored) : "beginning");
    }
    const rd_kafka_resp_err_t assigned = rd_kafka_assign(consumer_.get(), partitions);
    if (assigned != RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::lock_guard<std::mutex> lock(mu_);
      if (fatal_.ok()) fatal_ = KafkaStatus(assigned, "assigning partitions");
    }
    return;
  }
  // Revoked (or an error): make everything consumed so far durable, offsets included, before
  // another member may take the partitions.
  Flush();
  Drain();
  IngestLog().info("revoke partitions={} reason={}", partitions->cnt, rd_kafka_err2name(err));
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int i = 0; i < partitions->cnt; ++i) durable_offsets_.erase(partitions->elems[i].partition);
  }
  // Why: unassigning cannot meaningfully fail, and there is nothing else to do if it did.
  rd_kafka_assign(consumer_.get(), nullptr);
}

void KafkaIngester::Flush() {
  Pending& pending = *pending_;
  if (pending.messages == 0) return;
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return in_flight_ < options_.max_batches_in_flight || !fatal_.ok(); });
    if (!fatal_.ok()) return;  // the batch is dropped: its offsets are not stored either
    ++in_flight_;
  }
  for (const auto& [partition, next] : pending.next_offsets) {
    pending.call.positions.push_back({KafkaStream(options_.topic, partition), next});
  }
  const size_t messages = pending.messages;
  const size_t invalid = pending.call.rejections.size();
  std::map<int32_t, int64_t> offsets = std::move(pending.next_offsets);
  ledger_.AppendAsync(
      std::move(pending.call),
      [this, messages, invalid, offsets = std::move(offsets)](
          Result<std::vector<ledger::AppendResult>> result) {
        std::lock_guard<std::mutex> lock(mu_);
        --in_flight_;
        if (!result.ok()) {
          if (fatal_.ok()) fatal_ = result.status();
        } else {
          metrics_.messages += messages;
          metrics_.rejected += invalid;
          metrics_.batches += 1;
          for (const ledger::AppendResult& r : *result) {
            switch (r.outcome) {
              case ledger::AppendOutcome::kAppended: ++metrics_.appended; break;
              case ledger::AppendOutcome::kDuplicate: ++metrics_.duplicates; break;
              case ledger::AppendOutcome::kConflict: ++metrics_.rejected; break;
            }
          }
          for (const auto& [partition, next] : offsets) durable_offsets_[partition] = next;
        }
        cv_.notify_all();
      });
  *pending_ = Pending();
}

void KafkaIngester::Drain() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return in_flight_ == 0; });
}

Status KafkaIngester::Run(const std::atomic<bool>& stop, std::chrono::milliseconds flush_timeout) {
  ValidationContext context;
  context.is_known_submitter = options_.is_known_submitter;
  auto last_report = Clock::now();
  size_t transient_errors = 0;
  int consumer_replacements = 0;
  while (!stop.load()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!fatal_.ok()) break;
    }
    Pending& pending = *pending_;
    // One clock read per message: at 100k+ messages/s clock_gettime shows up in profiles.
    const auto loop_now = Clock::now();
    auto timeout = kIdlePoll;
    if (pending.messages > 0) {
      const auto age =
          std::chrono::duration_cast<std::chrono::milliseconds>(loop_now - pending.started);
      timeout = std::max(std::chrono::milliseconds(1), options_.max_batch_wait - age);
    }
    KafkaMessage message(rd_kafka_consumer_poll(consumer_.get(), static_cast<int>(timeout.count())));
    if (message != nullptr) {
      if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const std::string_view payload(static_cast<const char*>(message->payload), message->len);
        v1::Source source;
        v1::KafkaRecord* record = source.mutable_kafka();
        record->set_topic(rd_kafka_topic_name(message->rkt));
        record->set_partition(message->partition);
        record->set_offset(message->offset);
        // Event times are checked against a wall clock refreshed every 256 messages (and on
        // each new batch): the allowed skew is minutes, the refresh a few milliseconds.
        if (pending.messages == 0 || (pending.messages & 255) == 0) {
          context.now_unix_micros = NowMicros();
        }
        auto checked = DecodeAndValidate(payload, v1::EVENT_ENCODING_PROTOBUF, context);
        if (auto* event = std::get_if<v1::Event>(&checked)) {
          ledger::AppendRequest request;
          request.event_id = event->event_id();
          request.submitter_id = event->submitter_id();
          request.encoding = v1::EVENT_ENCODING_PROTOBUF;
          request.event = std::string(payload);
          request.source = std::move(source);
          request.on_conflict = ledger::OnConflict::kAnswerAndRecordRejection;
          pending.call.requests.push_back(std::move(request));
        } else {
          const Violation& violation = std::get<Violation>(checked);
          v1::Rejection rejection;
          *rejection.mutable_source() = std::move(source);
          rejection.set_rule(std::string(ValidationRuleName(violation.rule)));
          rejection.set_field(violation.field);
          rejection.set_reason(violation.message);
          rejection.set_payload(std::string(payload));
          if (message->key != nullptr) {
            rejection.set_key(std::string(static_cast<const char*>(message->key),
                                          message->key_len));
          }
          for (auto& [name, value] : KafkaHeadersOf(message.get())) {
            v1::Header* header = rejection.add_headers();
            header->set_name(std::move(name));
            header->set_value(std::move(value));
          }
          auto partial = DecodeEvent(payload, v1::EVENT_ENCODING_PROTOBUF);
          if (partial.ok()) rejection.set_event_id(partial->event_id().substr(0, 256));
          pending.call.rejections.push_back(std::move(rejection));
        }
        if (pending.messages == 0) pending.started = loop_now;
        ++pending.messages;
        pending.next_offsets[message->partition] = message->offset + 1;
      } else if (message->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        char reason[512];
        if (rd_kafka_fatal_error(consumer_.get(), reason, sizeof(reason)) !=
            RD_KAFKA_RESP_ERR_NO_ERROR) {
          if (++consumer_replacements > kMaxConsumerReplacements) {
            std::lock_guard<std::mutex> lock(mu_);
            if (fatal_.ok()) fatal_ = Status::Internal(std::string("Kafka consumer: ") + reason);
            break;
          }
          message.reset();
          Status replaced = ReplaceConsumer(reason);
          if (!replaced.ok()) {
            std::lock_guard<std::mutex> lock(mu_);
            if (fatal_.ok()) fatal_ = replaced;
            break;
          }
          continue;
        }
        // Broker down, network, leader changes: librdkafka reconnects by itself.
        if (transient_errors++ % 100 == 0) {
          IngestLog().warn("consumer error={} detail=\"{}\" action=retry count={}",
                           rd_kafka_err2name(message->err), rd_kafka_message_errstr(message.get()),
                           transient_errors);
        }
      }
    }
    if (pending.messages >= options_.max_batch_messages ||
        (pending.messages > 0 && loop_now - pending.started >= options_.max_batch_wait)) {
      Flush();
    }
    if (loop_now - last_report >= options_.report_interval) {
      Report(std::chrono::duration<double>(loop_now - last_report).count());
      last_report = loop_now;
    }
  }
  // Shutdown: everything consumed becomes durable (offsets stored) before we leave the group.
  Flush();
  Drain();
  Report(std::chrono::duration<double>(Clock::now() - last_report).count());
  rd_kafka_consumer_close(consumer_.get());  // runs the revoke callback
  for (TopicPublisher* publisher : {ledger_publisher_.get(), rejection_publisher_.get()}) {
    if (publisher == nullptr) continue;
    Status stopped = publisher->Stop(flush_timeout);
    if (!stopped.ok()) IngestLog().warn("shutdown publisher=\"{}\"", stopped.ToString());
  }
  std::lock_guard<std::mutex> lock(mu_);
  IngestLog().info("stopped messages={} appended={} duplicates={} rejected={} status=\"{}\"",
                   metrics_.messages, metrics_.appended, metrics_.duplicates, metrics_.rejected,
                   fatal_.ToString());
  return fatal_;
}

void KafkaIngester::Report(double seconds) {
  // Consumer lag from the watermarks librdkafka caches from fetch responses.
  int64_t lag = -1;
  rd_kafka_topic_partition_list_t* assignment = nullptr;
  if (rd_kafka_assignment(consumer_.get(), &assignment) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    PartitionList owned(assignment);
    if (rd_kafka_position(consumer_.get(), owned.get()) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      lag = 0;
      for (int i = 0; i < owned->cnt; ++i) {
        int64_t low = 0;
        int64_t high = 0;
        const rd_kafka_topic_partition_t& p = owned->elems[i];
        if (rd_kafka_get_watermark_offsets(consumer_.get(), p.topic, p.partition, &low, &high) ==
                RD_KAFKA_RESP_ERR_NO_ERROR &&
            high >= 0 && p.offset >= 0) {
          lag += std::max<int64_t>(0, high - p.offset);
        }
      }
    }
  }
  std::map<int32_t, int64_t> durable;
  IngestMetrics snapshot;
  {
    std::lock_guard<std::mutex> lock(mu_);
    metrics_.consumer_lag = lag;
    const uint64_t done = metrics_.messages - messages_at_last_report_;
    messages_at_last_report_ = metrics_.messages;
    metrics_.events_per_second = seconds > 0 ? static_cast<double>(done) / seconds : 0;
    durable = durable_offsets_;
    snapshot = metrics_;
  }
  // Commit the durable offsets to Kafka so that lag shows in Kafka's tools; the ledger, not
  // Kafka, is where the consumer resumes from.
  if (!durable.empty()) {
    PartitionList commit(rd_kafka_topic_partition_list_new(static_cast<int>(durable.size())));
    for (const auto& [partition, next] : durable) {
      rd_kafka_topic_partition_list_add(commit.get(), options_.topic.c_str(), partition)->offset =
          next;
    }
    // Why: a failed lag commit only delays what monitoring sees; the next report retries.
    rd_kafka_commit(consumer_.get(), commit.get(), 1);
  }
  const IngestMetrics m = Metrics();
  IngestLog().info(
      "metrics events_per_s={:.0f} messages={} appended={} duplicates={} rejected={} "
      "batches={} mean_batch={:.1f} consumer_lag={} ledger_published={} ledger_publish_lag={} "
      "rejected_published={}",
      snapshot.events_per_second, snapshot.messages, snapshot.appended, snapshot.duplicates,
      snapshot.rejected, snapshot.batches,
      snapshot.batches > 0 ? static_cast<double>(snapshot.messages) / snapshot.batches : 0.0,
      snapshot.consumer_lag, m.ledger_published, m.ledger_publish_lag, m.rejected_published);
}

IngestMetrics KafkaIngester::Metrics() const {
  IngestMetrics m;
  {
    std::lock_guard<std::mutex> lock(mu_);
    m = metrics_;
  }
  if (ledger_publisher_ != nullptr) {
    m.ledger_published = ledger_publisher_->published();
    m.ledger_publish_lag = ledger_publisher_->lag();
  }
  if (rejection_publisher_ != nullptr) m.rejected_published = rejection_publisher_->published();
  return m;
}

}  // namespace traceledger::ingest
