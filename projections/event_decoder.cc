#include "projections/event_decoder.h"

#include <google/protobuf/util/json_util.h>

namespace traceledger::projections {

EventDecoder DefaultEventDecoder() {
  return [](v1::EventEncoding encoding, std::string_view bytes, v1::Event* event) -> Status {
    switch (encoding) {
      case v1::EVENT_ENCODING_PROTOBUF:
        if (!event->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
          return Status::DataLoss("event bytes do not decode as traceledger.v1.Event");
        }
        return Status::Ok();
      case v1::EVENT_ENCODING_JSON: {
        google::protobuf::util::JsonParseOptions options;
        options.ignore_unknown_fields = true;  // validated on the way in; be lenient here
        const auto status = google::protobuf::util::JsonStringToMessage(
            google::protobuf::StringPiece(bytes.data(), bytes.size()), event, options);
        if (!status.ok()) {
          return Status::DataLoss("native JSON event does not decode: " +
                                  std::string(status.message()));
        }
        return Status::Ok();
      }
      default:
        return Status::Unimplemented("no decoder for " + v1::EventEncoding_Name(encoding) +
                                     " (plug ingest's decoder in)");
    }
  };
}

}  // namespace traceledger::projections
