// What every command needs: where the services are, stubs to call them,
// deadlines, and how to print results and errors (human text by default,
// protobuf JSON with --json).
#ifndef SWITCHBOARD_CLI_SESSION_H_
#define SWITCHBOARD_CLI_SESSION_H_

#include <iosfwd>
#include <memory>
#include <string>

#include <google/protobuf/message.h>
#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/status.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cli/command_line.h"
#include "switchboard/intake/v1/intake.grpc.pb.h"
#include "switchboard/notification/v1/notification.grpc.pb.h"
#include "switchboard/routing/v1/routing.grpc.pb.h"

namespace switchboard::cli {

// Exit codes: 0 success, 1 a call failed (or, for `health`, a service is not
// serving), 2 the command line was wrong.
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// The local stack's addresses (scripts/run-local.sh).
inline constexpr char kDefaultIntake[] = "127.0.0.1:50051";
inline constexpr char kDefaultRouting[] = "127.0.0.1:50052";
inline constexpr char kDefaultNotification[] = "127.0.0.1:50053";

// The global flags every command accepts.
std::vector<FlagSpec> GlobalFlags();

// --page-size (1..1000, default `default_size`), --page-token and --all.
std::vector<FlagSpec> PagingFlags(int default_size);

// `flags` followed by `more`.
std::vector<FlagSpec> JoinFlags(std::vector<FlagSpec> flags, const std::vector<FlagSpec>& more);

class Session {
 public:
  // Addresses come from --intake/--routing/--notification, else from
  // SWITCHBOARD_INTAKE/_ROUTING/_NOTIFICATION, else the local stack's.
  Session(const ParsedArgs& args, std::ostream& out, std::ostream& err);

  // Validates the global flags (e.g. --timeout) and reads the credential
  // files.
  absl::Status Init(const ParsedArgs& args);

  const std::string& intake_target() const { return intake_target_; }
  const std::string& routing_target() const { return routing_target_; }
  const std::string& notification_target() const { return notification_target_; }

  // A channel to `target` with the session's credentials: TLS (and a
  // client certificate) with --ca (--cert, --key), else plaintext.
  std::shared_ptr<grpc::Channel> Channel(const std::string& target) const;

  intake::v1::IntakeService::Stub& intake();
  routing::v1::RoutingService::Stub& routing();
  notification::v1::NotificationService::Stub& notification();

  // A context whose deadline is --timeout from now.
  std::unique_ptr<grpc::ClientContext> Context() const;

  bool json() const { return json_; }
  std::ostream& out() { return out_; }
  std::ostream& err() { return err_; }

  // Prints `message` as one line of protobuf JSON (snake_case field names).
  void PrintJson(const google::protobuf::Message& message);

  // Calls `call(context, request, &page)` for one page, or with `every_page`
  // for each page in turn, appending every page to `merged`, whose
  // next_page_token is the last page's.
  template <typename Request, typename Response, typename Call>
  grpc::Status Pages(Request request, bool every_page, Call call, Response& merged) const {
    while (true) {
      auto context = Context();
      Response page;
      grpc::Status status = call(context.get(), request, &page);
      if (!status.ok()) return status;
      std::string token = page.next_page_token();
      merged.MergeFrom(page);
      merged.set_next_page_token(token);
      if (!every_page || token.empty()) return status;
      request.set_page_token(std::move(token));
    }
  }

  // Tells how to get the next page, if there is one.
  void PrintMore(const std::string& next_page_token);

  // The body of every list command: --page-size (1..1000, default
  // `default_size`), --page-token and --all applied to `request`, the pages
  // fetched with `call` (see Pages), then the merged Response printed as JSON
  // or by `print(response)` followed by the next-page hint. `what` names the
  // list in errors ("issues"), `service` the service called.
  template <typename Response, typename Request, typename Call, typename Print>
  int List(const ParsedArgs& args, int default_size, Request request, absl::string_view what,
           absl::string_view service, Call call, Print print) {
    absl::StatusOr<int64_t> page_size = args.GetInt("page-size", default_size, 1, 1000);
    if (!page_size.ok()) return UsageError(page_size.status().message());
    request.set_page_size(static_cast<int>(*page_size));
    request.set_page_token(args.Get("page-token"));
    Response all;
    grpc::Status status = Pages(request, args.Has("all"), call, all);
    if (!status.ok()) return Fail(absl::StrCat("cannot list ", what), status, service);
    if (json_) {
      PrintJson(all);
      return 0;
    }
    print(all);
    PrintMore(all.next_page_token());
    return 0;
  }

  // Reports a failed call to `service` on stderr — "error: <what>: CODE:
  // message", each field violation on a line of its own, a hint when the
  // service cannot be reached — and returns kExitFailure.
  int Fail(absl::string_view what, const grpc::Status& status, absl::string_view service);

  // Reports a local error (a file that does not parse, say); kExitFailure.
  int Fail(absl::string_view what, const absl::Status& status);

  // Reports a usage error; kExitUsage.
  int UsageError(absl::string_view message);

 private:
  std::string TargetOf(absl::string_view service) const;

  std::string intake_target_;
  std::string routing_target_;
  std::string notification_target_;
  std::string ca_file_;
  std::string cert_file_;
  std::string key_file_;
  std::string token_file_;
  std::shared_ptr<grpc::ChannelCredentials> credentials_;
  std::string authorization_;  // "Bearer <token>", or "" for none
  absl::Duration timeout_ = absl::Seconds(10);
  bool json_ = false;
  std::ostream& out_;
  std::ostream& err_;
  std::unique_ptr<intake::v1::IntakeService::Stub> intake_;
  std::unique_ptr<routing::v1::RoutingService::Stub> routing_;
  std::unique_ptr<notification::v1::NotificationService::Stub> notification_;
};

}  // namespace switchboard::cli

#endif  // SWITCHBOARD_CLI_SESSION_H_
