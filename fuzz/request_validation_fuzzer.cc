// Request validation: any bytes, parsed as SubmitIssueRequest (as the
// service parses them), then validated as intake does. Must never crash,
// and an issue that validates must serialize again.
#include <cstdint>
#include <string>

#include "common/utf8.h"
#include "common/validation.h"
#include "switchboard/intake/v1/intake.pb.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  switchboard::intake::v1::SubmitIssueRequest request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
  switchboard::Violations violations;
  switchboard::ValidateIssueInput(request.issue(), "issue", violations);
  switchboard::CheckText(violations, "request_id", request.request_id(), 1, 128);
  const absl::Status status = violations.ToStatus("SubmitIssueRequest");
  if (status.ok()) {
    std::string bytes;
    if (!request.SerializeToString(&bytes)) __builtin_trap();
    // Everything that validated is valid UTF-8 where the API says so.
    if (!switchboard::IsValidUtf8(request.issue().title())) __builtin_trap();
  }
  return 0;
}
