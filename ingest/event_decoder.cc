#include "ingest/event_decoder.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/unknown_field_set.h>
#include <google/protobuf/util/json_util.h>

#include "ingest/epcis_json.h"
#include "ingest/internal/strict_json.h"

namespace traceledger::ingest {
namespace {

namespace pb = google::protobuf;

// Bounds the walk below; the JSON pre-check and protobuf's own recursion limit (100) keep real
// messages far shallower.
constexpr int kMaxMessageDepth = 100;

// Protobuf wire types (https://protobuf.dev/programming-guides/encoding/).
enum class WireType : uint32_t {
  kVarint = 0,
  kFixed64 = 1,
  kLengthDelimited = 2,
  kStartGroup = 3,
  kEndGroup = 4,
  kFixed32 = 5,
};

// The wire type of one (unpacked) value of a field of `type`.
WireType WireTypeOf(pb::FieldDescriptor::Type type) {
  switch (type) {
    case pb::FieldDescriptor::TYPE_DOUBLE:
    case pb::FieldDescriptor::TYPE_FIXED64:
    case pb::FieldDescriptor::TYPE_SFIXED64:
      return WireType::kFixed64;
    case pb::FieldDescriptor::TYPE_FLOAT:
    case pb::FieldDescriptor::TYPE_FIXED32:
    case pb::FieldDescriptor::TYPE_SFIXED32:
      return WireType::kFixed32;
    case pb::FieldDescriptor::TYPE_STRING:
    case pb::FieldDescriptor::TYPE_BYTES:
    case pb::FieldDescriptor::TYPE_MESSAGE:
      return WireType::kLengthDelimited;
    case pb::FieldDescriptor::TYPE_GROUP:
      return WireType::kStartGroup;
    default:
      return WireType::kVarint;  // integers, bool, enum
  }
}

// A quick test of an event's protobuf bytes for fields its types do not know, so that the exact
// walk below (CheckNoUnknownFields, by reflection) runs only when there may be one: that walk
// costs about as much as parsing, since every descriptor and reflection access goes through a
// std::call_once. The test is one pass over the bytes, allocates nothing, and says "surely none"
// only where the parser cannot have stored an unknown field: every field number known to its
// message type, every value in a wire type the parser takes for that field, no message nested
// deeper than kMaxMessageDepth. Anything else (unknown numbers, groups, proto2 types) is "not
// sure", and the exact walk decides. Immutable once built; thread-safe.
class UnknownFieldScan {
 public:
  // Requires `root` to be a message type known to this binary.
  explicit UnknownFieldScan(const pb::Descriptor* root) {
    std::unordered_map<const pb::Descriptor*, int> index_of;
    std::vector<const pb::Descriptor*> descriptors;
    auto add = [&](const pb::Descriptor* descriptor) {
      const auto [it, inserted] =
          index_of.emplace(descriptor, static_cast<int>(descriptors.size()));
      if (inserted) descriptors.push_back(descriptor);
      return it->second;
    };
    add(root);
    // Breadth first; `descriptors` grows while we go, and ends once every type is planned.
    for (size_t i = 0; i < descriptors.size(); ++i) {
      const pb::Descriptor* descriptor = descriptors[i];
      // proto2 parsers also store unknown values of closed enums, and extensions, as unknown
      // fields; this scan only knows proto3.
      if (descriptor->file()->syntax() != pb::FileDescriptor::SYNTAX_PROTO3) usable_ = false;
      std::vector<KnownField> fields;
      for (int f = 0; f < descriptor->field_count(); ++f) {
        const pb::FieldDescriptor* field = descriptor->field(f);
        const bool is_message = field->type() == pb::FieldDescriptor::TYPE_MESSAGE;
        fields.push_back({static_cast<uint32_t>(field->number()), WireTypeOf(field->type()),
                          field->is_packable(), is_message ? add(field->message_type()) : -1});
      }
      std::sort(fields.begin(), fields.end(),
                [](const KnownField& a, const KnownField& b) { return a.number < b.number; });
      types_.push_back(std::move(fields));
    }
  }

  // Returns true if `bytes`, which parsed as the root type, surely hold no unknown fields and
  // no message nested deeper than kMaxMessageDepth; false if they may.
  bool SurelyAllKnown(std::string_view bytes) const {
    return usable_ && MessageSurelyAllKnown(bytes, 0, 0);
  }

 private:
  struct KnownField {
    uint32_t number;
    WireType wire_type;  // of one value
    bool packable;       // a repeated scalar: may also come packed, length-delimited
    int message_type;    // index into types_, or -1 if not a message
  };

  // Reads the varint at the front of `bytes` into `value` and drops it from `bytes`; returns
  // false if there is no whole varint of at most 10 bytes.
  static bool ReadVarint(std::string_view& bytes, uint64_t& value) {
    value = 0;
    for (size_t i = 0; i < bytes.size() && i < 10; ++i) {
      const auto byte = static_cast<uint8_t>(bytes[i]);
      value |= static_cast<uint64_t>(byte & 0x7f) << (7 * i);
      if (byte < 0x80) {
        bytes.remove_prefix(i + 1);
        return true;
      }
    }
    return false;
  }

  // Drops a varint length and that many bytes from the front of `bytes` into `value`.
  static bool ReadLengthDelimited(std::string_view& bytes, std::string_view& value) {
    uint64_t length = 0;
    if (!ReadVarint(bytes, length) || length > bytes.size()) return false;
    value = bytes.substr(0, length);
    bytes.remove_prefix(length);
    return true;
  }

  bool MessageSurelyAllKnown(std::string_view bytes, int type, int depth) const {
    if (depth > kMaxMessageDepth) return false;
    const std::vector<KnownField>& fields = types_[static_cast<size_t>(type)];
    while (!bytes.empty()) {
      uint64_t tag = 0;
      if (!ReadVarint(bytes, tag)) return false;
      const uint64_t number = tag >> 3;
      const auto wire_type = static_cast<WireType>(tag & 7);
      const auto it =
          std::lower_bound(fields.begin(), fields.end(), number,
                           [](const KnownField& field, uint64_t n) { return field.number < n; });
      if (it == fields.end() || it->number != number) return false;  // an unknown field
      const bool packed = it->packable && wire_type == WireType::kLengthDelimited;
      if (wire_type != it->wire_type && !packed) return false;  // parsed as an unknown field
      std::string_view value;
      switch (wire_type) {
        case WireType::kVarint: {
          uint64_t ignored = 0;
          if (!ReadVarint(bytes, ignored)) return false;
          break;
        }
        case WireType::kFixed64:
        case WireType::kFixed32: {
          const size_t size = wire_type == WireType::kFixed64 ? 8 : 4;
          if (bytes.size() < size) return false;
          bytes.remove_prefix(size);
          break;
        }
        case WireType::kLengthDelimited:
          if (!ReadLengthDelimited(bytes, value)) return false;
          if (it->message_type >= 0 && !MessageSurelyAllKnown(value, it->message_type, depth + 1)) {
            return false;
          }
          break;
        default:
          return false;  // groups: not in proto3
      }
    }
    return true;
  }

  std::vector<std::vector<KnownField>> types_;  // by type index; 0 is the root
  bool usable_ = true;
};

// Finds the first unknown field anywhere in `message` (fields in number order, depth first);
// returns OK if there is none. Unknown fields would be stored in the ledger without ever being
// validated or projected. Builds the path of every sub-message it visits: run it only where
// UnknownFieldScan is not sure.
Status CheckNoUnknownFields(const pb::Message& message, const std::string& path, int depth) {
  if (depth > kMaxMessageDepth) {
    return Status::InvalidArgument("protobuf: nesting deeper than " +
                                   std::to_string(kMaxMessageDepth) + " at " + path);
  }
  const pb::Reflection* reflection = message.GetReflection();
  const pb::UnknownFieldSet& unknown = reflection->GetUnknownFields(message);
  if (!unknown.empty()) {
    return Status::InvalidArgument("protobuf: unknown field number " +
                                   std::to_string(unknown.field(0).number()) + " in " +
                                   message.GetDescriptor()->full_name() +
                                   (path.empty() ? "" : " at " + path));
  }
  std::vector<const pb::FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const pb::FieldDescriptor* field : fields) {
    if (field->cpp_type() != pb::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    const std::string field_path = path + "/" + field->json_name();
    if (field->is_repeated()) {
      const int size = reflection->FieldSize(message, field);
      for (int i = 0; i < size; ++i) {
        TL_RETURN_IF_ERROR(CheckNoUnknownFields(reflection->GetRepeatedMessage(message, field, i),
                                                field_path + "/" + std::to_string(i),
                                                depth + 1));
      }
    } else {
      TL_RETURN_IF_ERROR(CheckNoUnknownFields(reflection->GetMessage(message, field), field_path,
                                              depth + 1));
    }
  }
  return Status::Ok();
}

Result<traceledger::v1::Event> DecodeNativeJson(std::string_view bytes) {
  if (Status syntax = internal::CheckStrictJsonObject(bytes); !syntax.ok()) {
    return Status::InvalidArgument("native " + syntax.message());
  }
  traceledger::v1::Event event;
  pb::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  options.case_insensitive_enum_parsing = false;
  const pb::util::Status status =
      pb::util::JsonStringToMessage(pb::StringPiece(bytes.data(), bytes.size()), &event, options);
  if (!status.ok()) {
    return Status::InvalidArgument("native JSON: " + std::string(status.message()));
  }
  return event;
}

Result<traceledger::v1::Event> DecodeProtobuf(std::string_view bytes) {
  traceledger::v1::Event event;
  if (!event.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Status::InvalidArgument("protobuf: not a valid traceledger.v1.Event (" +
                                   std::to_string(bytes.size()) + " bytes)");
  }
  static const UnknownFieldScan scan(traceledger::v1::Event::descriptor());
  if (!scan.SurelyAllKnown(bytes)) TL_RETURN_IF_ERROR(CheckNoUnknownFields(event, "", 0));
  return event;
}

}  // namespace

Result<traceledger::v1::Event> DecodeEvent(std::string_view bytes,
                                           traceledger::v1::EventEncoding encoding) {
  if (bytes.size() > kMaxEventBytes) {
    return Status::InvalidArgument("event is " + std::to_string(bytes.size()) +
                                   " bytes, want at most " + std::to_string(kMaxEventBytes));
  }
  switch (encoding) {
    case traceledger::v1::EVENT_ENCODING_JSON:
      return DecodeNativeJson(bytes);
    case traceledger::v1::EVENT_ENCODING_PROTOBUF:
      return DecodeProtobuf(bytes);
    case traceledger::v1::EVENT_ENCODING_EPCIS_JSON:
      return DecodeEpcisJsonEvent(bytes);
    default:
      break;
  }
  return Status::InvalidArgument("event encoding " + std::to_string(static_cast<int>(encoding)) +
                                 ": want JSON, PROTOBUF or EPCIS_JSON");
}

Status DecodeStoredEventInto(traceledger::v1::EventEncoding encoding, std::string_view bytes,
                             traceledger::v1::Event* event) {
  if (encoding != traceledger::v1::EVENT_ENCODING_PROTOBUF) {
    TL_ASSIGN_OR_RETURN(*event, DecodeEvent(bytes, encoding));
    return Status::Ok();
  }
  if (!event->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Status::InvalidArgument("protobuf: not a valid traceledger.v1.Event (" +
                                   std::to_string(bytes.size()) + " bytes)");
  }
  return Status::Ok();
}

Result<traceledger::v1::Event> DecodeStoredEvent(traceledger::v1::EventEncoding encoding,
                                                 std::string_view bytes) {
  traceledger::v1::Event event;
  TL_RETURN_IF_ERROR(DecodeStoredEventInto(encoding, bytes, &event));
  return event;
}

}  // namespace traceledger::ingest
