// File: ingest/kafka_client.h
//
// Small RAII layer over librdkafka 2.0.2's C API, shared by the ingest worker, the topic
// publishers, the tests and the benchmarks. This is the one place where rd_kafka_resp_err_t
// becomes a Status (STYLE.md section 4). Thread-safety: as librdkafka's (handles are
// thread-safe; a consumer is polled from one thread).
#ifndef TRACELEDGER_INGEST_KAFKA_CLIENT_H_
#define TRACELEDGER_INGEST_KAFKA_CLIENT_H_

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ledger/base/status.h"

namespace traceledger::ingest {

struct KafkaHandleDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using KafkaHandle = std::unique_ptr<rd_kafka_t, KafkaHandleDeleter>;

struct KafkaMessageDeleter {
  void operator()(rd_kafka_message_t* m) const { rd_kafka_message_destroy(m); }
};
using KafkaMessage = std::unique_ptr<rd_kafka_message_t, KafkaMessageDeleter>;

struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const {
    rd_kafka_topic_partition_list_destroy(l);
  }
};
using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;

// librdkafka configuration as key/value pairs, applied in order (later ones win).
using KafkaConfig = std::vector<std::pair<std::string, std::string>>;
using KafkaHeaders = std::vector<std::pair<std::string, std::string>>;

// Translates a librdkafka error: transient broker/network errors are Unavailable, bad
// arguments InvalidArgument, unknown topics NotFound, fatal client errors Internal.
Status KafkaStatus(rd_kafka_resp_err_t err, std::string_view what);

// Creates a producer or consumer. `configure` may set callbacks and opaques on the conf before
// the handle is created. Returns InvalidArgument naming the key librdkafka rejected.
Result<KafkaHandle> NewKafkaClient(rd_kafka_type_t type, const KafkaConfig& config,
                                   const std::function<void(rd_kafka_conf_t*)>& configure = {});

// The partition Kafka's Java client (and librdkafka's murmur2 partitioner) picks for `key`:
// (murmur2(key) & 0x7fffffff) % partitions. Requires partitions > 0.
int32_t KafkaPartitionFor(std::string_view key, int32_t partitions);
uint32_t KafkaMurmur2(std::string_view key);

// The partition count of `topic`; NotFound if the broker does not know the topic.
Result<int32_t> KafkaPartitionCount(rd_kafka_t* rk, const std::string& topic,
                                    std::chrono::milliseconds timeout);

// Creates `topic` with `partitions` partitions if it does not exist (Admin API). OK if it
// already exists, whatever its partition count.
Status EnsureKafkaTopic(rd_kafka_t* rk, const std::string& topic, int32_t partitions,
                        int16_t replication_factor, std::chrono::milliseconds timeout);

// The headers of a consumed message, in order.
KafkaHeaders KafkaHeadersOf(const rd_kafka_message_t* message);
// Value of the first header named `name`, if any.
std::optional<std::string> KafkaHeader(const KafkaHeaders& headers, std::string_view name);

// Builds an rd_kafka_headers_t (owned by the caller until passed to produce).
rd_kafka_headers_t* NewKafkaHeaders(const KafkaHeaders& headers);

}  // namespace traceledger::ingest

#endif  // TRACELEDGER_INGEST_KAFKA_CLIENT_H_
