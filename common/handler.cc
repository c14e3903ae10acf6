#include "common/handler.h"

#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/support/proto_buffer_reader.h>
#include <grpcpp/support/proto_buffer_writer.h>

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace switchboard {

absl::Status ParseMessage(const grpc::ByteBuffer& bytes, google::protobuf::Message* message) {
  grpc::ByteBuffer shared(bytes);  // shares the slices, copies nothing
  grpc::ProtoBufferReader reader(&shared);
  if (!message->ParseFromZeroCopyStream(&reader)) {
    return absl::InvalidArgumentError(
        absl::StrCat("request is not a valid ", message->GetTypeName(),
                     ": malformed protobuf, or a string field that is not valid UTF-8"));
  }
  return absl::OkStatus();
}

void UnaryResponder::Release() const {
  if (gate_ != nullptr) gate_->capacity().Release(work_, bytes_);
}

void UnaryResponder::Finish(const google::protobuf::Message& response) const {
  Release();
  bool own_buffer;
  grpc::Status serialized =
      grpc::GenericSerialize<grpc::ProtoBufferWriter, google::protobuf::Message>(
          response, response_, &own_buffer);
  reactor_->Finish(serialized);
}

void UnaryResponder::Finish(const absl::Status& status) const {
  if (gate_ != nullptr && status.code() == absl::StatusCode::kPermissionDenied) {
    gate_->CountDenied(caller_class_);
  }
  Release();
  reactor_->Finish(
      ToGrpcStatus(status.ok() ? absl::InternalError("finished OK without a response") : status));
}

void UnaryResponder::FinishRelayed(const grpc::Status& status,
                                   const grpc::ByteBuffer& response) const {
  if (status.ok()) *response_ = response;
  Release();
  reactor_->Finish(status);
}

}  // namespace switchboard
