#include "cli/session.h"

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <ostream>

#include <google/protobuf/util/json_util.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace switchboard::cli {
namespace {

std::string FromFlagOrEnv(const ParsedArgs& args, absl::string_view flag, const char* env,
                          const char* fallback) {
  if (args.Has(flag)) return args.Get(flag);
  const char* value = std::getenv(env);
  return value != nullptr && *value != '\0' ? value : fallback;
}

absl::StatusOr<std::string> ReadFile(const std::string& path, absl::string_view flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read --", flag, " ", path));
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

std::vector<FlagSpec> GlobalFlags() {
  return {
      {.name = "intake",
       .value_name = "HOST:PORT",
       .help = absl::StrCat("IntakeService address (env SWITCHBOARD_INTAKE; default ",
                            kDefaultIntake, ")")},
      {.name = "routing",
       .value_name = "HOST:PORT",
       .help = absl::StrCat("RoutingService address (env SWITCHBOARD_ROUTING; default ",
                            kDefaultRouting, ")")},
      {.name = "notification",
       .value_name = "HOST:PORT",
       .help = absl::StrCat("NotificationService address (env SWITCHBOARD_NOTIFICATION; default ",
                            kDefaultNotification, ")")},
      {.name = "ca",
       .value_name = "FILE",
       .help =
           "call over TLS, verifying the services with this PEM CA bundle (env SWITCHBOARD_CA)"},
      {.name = "cert",
       .value_name = "FILE",
       .help = "PEM client certificate for mutual TLS (env SWITCHBOARD_CERT); needs --ca"},
      {.name = "key",
       .value_name = "FILE",
       .help = "PEM private key of --cert (env SWITCHBOARD_KEY)"},
      {.name = "token-file",
       .value_name = "FILE",
       .help = "send the bearer token in FILE (env SWITCHBOARD_TOKEN_FILE); needs --ca"},
      {.name = "timeout", .value_name = "DURATION", .help = "deadline of each call (default 10s)"},
      {.name = "json", .help = "print protobuf JSON, one message per line, for scripts"},
  };
}

std::vector<FlagSpec> PagingFlags(int default_size) {
  return {{.name = "page-size",
           .value_name = "N",
           .help = absl::StrCat("entries per page, 1..1000 (default ", default_size, ")")},
          {.name = "page-token", .value_name = "TOKEN", .help = "continue a previous listing"},
          {.name = "all", .help = "follow every page"}};
}

std::vector<FlagSpec> JoinFlags(std::vector<FlagSpec> flags, const std::vector<FlagSpec>& more) {
  flags.insert(flags.end(), more.begin(), more.end());
  return flags;
}

Session::Session(const ParsedArgs& args, std::ostream& out, std::ostream& err)
    : intake_target_(FromFlagOrEnv(args, "intake", "SWITCHBOARD_INTAKE", kDefaultIntake)),
      routing_target_(FromFlagOrEnv(args, "routing", "SWITCHBOARD_ROUTING", kDefaultRouting)),
      notification_target_(
          FromFlagOrEnv(args, "notification", "SWITCHBOARD_NOTIFICATION", kDefaultNotification)),
      ca_file_(FromFlagOrEnv(args, "ca", "SWITCHBOARD_CA", "")),
      cert_file_(FromFlagOrEnv(args, "cert", "SWITCHBOARD_CERT", "")),
      key_file_(FromFlagOrEnv(args, "key", "SWITCHBOARD_KEY", "")),
      token_file_(FromFlagOrEnv(args, "token-file", "SWITCHBOARD_TOKEN_FILE", "")),
      json_(args.Has("json")),
      out_(out),
      err_(err) {}

absl::Status Session::Init(const ParsedArgs& args) {
  auto timeout = args.GetDuration("timeout", absl::Seconds(10));
  if (!timeout.ok()) return timeout.status();
  if (*timeout == absl::ZeroDuration()) return absl::InvalidArgumentError("--timeout must be > 0");
  timeout_ = *timeout;
  if (cert_file_.empty() != key_file_.empty()) {
    return absl::InvalidArgumentError("--cert and --key go together");
  }
  if (ca_file_.empty()) {
    if (!cert_file_.empty() || !token_file_.empty()) {
      return absl::InvalidArgumentError(
          "--cert and --token-file need --ca: credentials are only sent over TLS");
    }
    credentials_ = grpc::InsecureChannelCredentials();
    return absl::OkStatus();
  }
  grpc::SslCredentialsOptions options;
  ASSIGN_OR_RETURN(options.pem_root_certs, ReadFile(ca_file_, "ca"));
  if (!cert_file_.empty()) {
    ASSIGN_OR_RETURN(options.pem_cert_chain, ReadFile(cert_file_, "cert"));
    ASSIGN_OR_RETURN(options.pem_private_key, ReadFile(key_file_, "key"));
  }
  credentials_ = grpc::SslCredentials(options);
  if (!token_file_.empty()) {
    ASSIGN_OR_RETURN(std::string token, ReadFile(token_file_, "token-file"));
    authorization_ = absl::StrCat("Bearer ", absl::StripAsciiWhitespace(token));
  }
  return absl::OkStatus();
}

std::shared_ptr<grpc::Channel> Session::Channel(const std::string& target) const {
  return grpc::CreateChannel(target, credentials_);
}

intake::v1::IntakeService::Stub& Session::intake() {
  if (intake_ == nullptr) intake_ = intake::v1::IntakeService::NewStub(Channel(intake_target_));
  return *intake_;
}

routing::v1::RoutingService::Stub& Session::routing() {
  if (routing_ == nullptr) {
    routing_ = routing::v1::RoutingService::NewStub(Channel(routing_target_));
  }
  return *routing_;
}

notification::v1::NotificationService::Stub& Session::notification() {
  if (notification_ == nullptr) {
    notification_ = notification::v1::NotificationService::NewStub(Channel(notification_target_));
  }
  return *notification_;
}

std::unique_ptr<grpc::ClientContext> Session::Context() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  if (!authorization_.empty()) context->AddMetadata("authorization", authorization_);
  return context;
}

void Session::PrintJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  out_ << json << "\n";
}

void Session::PrintMore(const std::string& next_page_token) {
  if (next_page_token.empty() || json_) return;
  out_ << "\nmore: add --page-token=" << next_page_token << " (or --all for every page)\n";
}

std::string Session::TargetOf(absl::string_view service) const {
  if (service == "intake") return intake_target_;
  if (service == "routing") return routing_target_;
  return notification_target_;
}

int Session::Fail(absl::string_view what, const grpc::Status& status, absl::string_view service) {
  const absl::Status converted = FromGrpcStatus(status);
  err_ << "error: " << what << ": " << StatusCodeName(converted.code()) << ": "
       << converted.message() << "\n";
  for (const FieldViolation& violation : GetFieldViolations(converted)) {
    err_ << "  " << violation.field << ": " << violation.description << "\n";
  }
  if (absl::optional<absl::Duration> retry = GetRetryDelay(converted); retry.has_value()) {
    // Only a draining service answers UNAVAILABLE with a retry delay.
    const char* why = "over the rate limit";
    if (absl::StrContains(converted.message(), "at capacity")) why = "the service is at capacity";
    if (converted.code() == absl::StatusCode::kUnavailable) why = "the service is shutting down";
    err_ << "hint: " << why << "; retry in " << absl::FormatDuration(*retry) << ".\n";
  }
  if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
    err_ << "hint: give credentials: --cert/--key (mutual TLS) or --token-file, with --ca.\n";
  }
  // UNAVAILABLE with a retry hint came from a service that is running.
  if ((status.error_code() == grpc::StatusCode::UNAVAILABLE ||
       status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) &&
      !GetRetryDelay(converted).has_value()) {
    err_ << "hint: is " << service << " running at " << TargetOf(service)
         << "? Start the local stack with scripts/run-local.sh, or pass --" << service
         << "=HOST:PORT.\n";
  }
  return kExitFailure;
}

int Session::Fail(absl::string_view what, const absl::Status& status) {
  err_ << "error: " << what << ": " << status.message() << "\n";
  return kExitFailure;
}

int Session::UsageError(absl::string_view message) {
  err_ << "error: " << message << "\n";
  return kExitUsage;
}

}  // namespace switchboard::cli
