#include "ingest/event_decoder.h"

#include <string>
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

// Finds the first unknown field anywhere in `message`; returns OK if there is none. Unknown
// fields would be stored in the ledger without ever being validated or projected.
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
  TL_RETURN_IF_ERROR(CheckNoUnknownFields(event, "", 0));
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

}  // namespace traceledger::ingest
