#include "ingest/kafka_client.h"

#include <optional>
#include <thread>

namespace traceledger::ingest {

Status KafkaStatus(rd_kafka_resp_err_t err, std::string_view what) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::Ok();
  std::string message = std::string(what) + ": " + rd_kafka_err2name(err) + " (" +
                        rd_kafka_err2str(err) + ")";
  switch (err) {
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR__CONFLICT:
    case RD_KAFKA_RESP_ERR_INVALID_CONFIG:
    case RD_KAFKA_RESP_ERR_INVALID_PARTITIONS:
    case RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR:
      return Status::InvalidArgument(std::move(message));
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
      return Status::NotFound(std::move(message));
    case RD_KAFKA_RESP_ERR__FATAL:
    case RD_KAFKA_RESP_ERR__FENCED:
      return Status::Internal(std::move(message));
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
      return Status::ResourceExhausted(std::move(message));
    default:
      return Status::Unavailable(std::move(message));
  }
}

Result<KafkaHandle> NewKafkaClient(rd_kafka_type_t type, const KafkaConfig& config,
                                   const std::function<void(rd_kafka_conf_t*)>& configure) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char error[512];
  for (const auto& [key, value] : config) {
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), error, sizeof(error)) !=
        RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return Status::InvalidArgument("Kafka setting " + key + "=" + value + ": " + error);
    }
  }
  if (configure) configure(conf);
  // On success rd_kafka_new takes ownership of conf; on failure it stays ours.
  rd_kafka_t* rk = rd_kafka_new(type, conf, error, sizeof(error));
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return Status::InvalidArgument(std::string("cannot create Kafka client: ") + error);
  }
  return KafkaHandle(rk);
}

uint32_t KafkaMurmur2(std::string_view key) {
  // Kafka's org.apache.kafka.common.utils.Utils.murmur2 (seed 0x9747b28c).
  const uint32_t m = 0x5bd1e995;
  const int r = 24;
  const auto* data = reinterpret_cast<const uint8_t*>(key.data());
  const size_t length = key.size();
  uint32_t h = 0x9747b28c ^ static_cast<uint32_t>(length);
  const size_t length4 = length / 4;
  for (size_t i = 0; i < length4; ++i) {
    const size_t i4 = i * 4;
    uint32_t k = uint32_t{data[i4 + 0]} | (uint32_t{data[i4 + 1]} << 8) |
                 (uint32_t{data[i4 + 2]} << 16) | (uint32_t{data[i4 + 3]} << 24);
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
  }
  const size_t rest = length4 * 4;
  switch (length % 4) {
    case 3:
      h ^= uint32_t{data[rest + 2]} << 16;
      [[fallthrough]];
    case 2:
      h ^= uint32_t{data[rest + 1]} << 8;
      [[fallthrough]];
    case 1:
      h ^= uint32_t{data[rest]};
      h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return h;
}

int32_t KafkaPartitionFor(std::string_view key, int32_t partitions) {
  TL_ASSERT(partitions > 0);
  return static_cast<int32_t>((KafkaMurmur2(key) & 0x7fffffff) % static_cast<uint32_t>(partitions));
}

Result<int32_t> KafkaPartitionCount(rd_kafka_t* rk, const std::string& topic,
                                    std::chrono::milliseconds timeout) {
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  if (rkt == nullptr) return Status::InvalidArgument("bad topic name " + topic);
  const rd_kafka_metadata_t* metadata = nullptr;
  const rd_kafka_resp_err_t err =
      rd_kafka_metadata(rk, 0, rkt, &metadata, static_cast<int>(timeout.count()));
  rd_kafka_topic_destroy(rkt);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return KafkaStatus(err, "metadata of " + topic);
  Result<int32_t> result = Status::NotFound("topic " + topic + " does not exist");
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    const rd_kafka_metadata_topic_t& t = metadata->topics[i];
    if (topic != t.topic) continue;
    if (t.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      result = KafkaStatus(t.err, "metadata of " + topic);
    } else if (t.partition_cnt > 0) {
      result = t.partition_cnt;
    }
  }
  rd_kafka_metadata_destroy(metadata);
  return result;
}

Status EnsureKafkaTopic(rd_kafka_t* rk, const std::string& topic, int32_t partitions,
                        int16_t replication_factor, std::chrono::milliseconds timeout) {
  if (KafkaPartitionCount(rk, topic, timeout).ok()) return Status::Ok();
  char error[512];
  rd_kafka_NewTopic_t* new_topic =
      rd_kafka_NewTopic_new(topic.c_str(), partitions, replication_factor, error, sizeof(error));
  if (new_topic == nullptr) return Status::InvalidArgument("topic " + topic + ": " + error);
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
  rd_kafka_AdminOptions_t* options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_operation_timeout(options, static_cast<int>(timeout.count()), error,
                                              sizeof(error));
  rd_kafka_CreateTopics(rk, &new_topic, 1, options, queue);
  Status status = Status::Unavailable("creating topic " + topic + " timed out");
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue, static_cast<int>(timeout.count()) + 1000);
  if (event != nullptr) {
    if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      status = KafkaStatus(rd_kafka_event_error(event), "creating topic " + topic);
    } else {
      const rd_kafka_CreateTopics_result_t* result = rd_kafka_event_CreateTopics_result(event);
      size_t count = 0;
      const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(result, &count);
      status = Status::Ok();
      for (size_t i = 0; i < count; ++i) {
        const rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
          status = KafkaStatus(err, "creating topic " + topic);
        }
      }
    }
    rd_kafka_event_destroy(event);
  }
  rd_kafka_AdminOptions_destroy(options);
  rd_kafka_NewTopic_destroy(new_topic);
  rd_kafka_queue_destroy(queue);
  TL_RETURN_IF_ERROR(status);
  // A new topic reaches the metadata a moment after CreateTopics returns: wait (bounded).
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto count = KafkaPartitionCount(rk, topic, std::chrono::milliseconds(1000));
    if (count.ok()) return Status::Ok();
    if (std::chrono::steady_clock::now() >= deadline) {
      return count.status().WithContext("topic " + topic + " was created but does not show");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

KafkaHeaders KafkaHeadersOf(const rd_kafka_message_t* message) {
  KafkaHeaders out;
  rd_kafka_headers_t* headers = nullptr;
  // The headers stay owned by the message.
  if (rd_kafka_message_headers(message, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) return out;
  const char* name = nullptr;
  const void* value = nullptr;
  size_t size = 0;
  for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) ==
                     RD_KAFKA_RESP_ERR_NO_ERROR;
       ++i) {
    out.emplace_back(name, value == nullptr ? std::string()
                                            : std::string(static_cast<const char*>(value), size));
  }
  return out;
}

std::optional<std::string> KafkaHeader(const KafkaHeaders& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return std::nullopt;
}

rd_kafka_headers_t* NewKafkaHeaders(const KafkaHeaders& headers) {
  rd_kafka_headers_t* out = rd_kafka_headers_new(headers.size());
  for (const auto& [name, value] : headers) {
    rd_kafka_header_add(out, name.data(), static_cast<ssize_t>(name.size()), value.data(),
                        static_cast<ssize_t>(value.size()));
  }
  return out;
}

}  // namespace traceledger::ingest
