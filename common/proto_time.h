// Conversions between Abseil time and the protobuf well-known types.
#ifndef SWITCHBOARD_COMMON_PROTO_TIME_H_
#define SWITCHBOARD_COMMON_PROTO_TIME_H_

#include <google/protobuf/duration.pb.h>
#include <google/protobuf/timestamp.pb.h>

#include "absl/time/time.h"

namespace switchboard {

google::protobuf::Timestamp ToProtoTime(absl::Time time);
absl::Time FromProtoTime(const google::protobuf::Timestamp& timestamp);
absl::Duration FromProtoDuration(const google::protobuf::Duration& duration);
google::protobuf::Duration ToProtoDuration(absl::Duration duration);

}  // namespace switchboard

#endif  // SWITCHBOARD_COMMON_PROTO_TIME_H_
