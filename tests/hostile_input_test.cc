// A campaign of hostile input against the three running services: broken
// HTTP/2 frames, bytes that are not protobuf, oversized messages, invalid
// UTF-8, unknown enum numbers, deep nesting, huge maps and lists, tampered
// page tokens, on every unary RPC where it applies. Each must get a clear
// status (or, below gRPC, a closed connection), no process may die, and
// nothing stored may change.
#include <unistd.h>

#include <cerrno>

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/unknown_field_set.h>
#include <gtest/gtest.h>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "common/status.h"
#include "common/testing/probes.h"
#include "switchboard/intake/v1/partition.pb.h"
#include "tests/stack.h"

namespace switchboard::testing {
namespace {

// Protobuf wire format, by hand: what a well-behaved client would never send.
std::string Varint(uint64_t value) {
  std::string out;
  do {
    char byte = static_cast<char>(value & 0x7f);
    value >>= 7;
    if (value != 0) byte = static_cast<char>(byte | 0x80);
    out.push_back(byte);
  } while (value != 0);
  return out;
}
std::string Field(int number, const std::string& bytes) {  // length-delimited
  return Varint((static_cast<uint64_t>(number) << 3) | 2) + Varint(bytes.size()) + bytes;
}
std::string VarintField(int number, uint64_t value) {
  return Varint(static_cast<uint64_t>(number) << 3) + Varint(value);
}

// A valid issue (fields of switchboard.issue.v1.Issue) plus `extra` bytes.
std::string IssueBytes(const std::string& extra = "") {
  return Field(2, "Hostile input test") + Field(4, Field(1, "cust-1")) + Field(5, "defender") +
         VarintField(6, 2) + Field(9, "crm") + extra;
}
std::string SubmitBytes(const std::string& issue, const std::string& request_id) {
  return Field(1, issue) + Field(2, request_id);
}

constexpr char kSubmit[] = "/switchboard.intake.v1.IntakeService/SubmitIssue";
constexpr char kListIssues[] = "/switchboard.intake.v1.IntakeService/ListIssues";

class HostileInputTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto stack = Stack::Launch({});
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = stack->release();
    // Something stored, so that "nothing changes" means something.
    RawCallResult seeded = CallRaw(stack_->target(Service::kIntake), kSubmit,
                                   SubmitBytes(IssueBytes(), "hostile-seed"));
    ASSERT_TRUE(seeded.status.ok()) << seeded.status.error_message();
    ASSERT_TRUE(AwaitDelivered(1));
  }

  // Waits until `count` issues are routed and their ROUTED events delivered
  // to the owning team, so that nothing moves on its own during a test.
  static bool AwaitDelivered(int count) {
    for (int i = 0; i < 200; ++i) {
      RawCallResult log =
          CallRaw(stack_->target(Service::kNotification),
                  "/switchboard.notification.v1.NotificationService/ListNotifications",
                  Field(1, "teams/security-response") + VarintField(2, 1000));
      notification::v1::ListNotificationsResponse notifications;
      if (log.status.ok() && notifications.ParseFromString(log.response) &&
          notifications.notifications_size() >= count) {
        return true;
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
    return false;
  }
  static void TearDownTestSuite() {
    delete stack_;
    stack_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(stack_, nullptr);
    before_ = StoredState();
  }

  // Every process still serving, and the stored state as it was.
  void TearDown() override {
    for (Service service : {Service::kIntake, Service::kRouting, Service::kNotification}) {
      EXPECT_TRUE(WaitForServing(stack_->target(service), absl::Seconds(5)).ok())
          << "a service died:\n"
          << stack_->LogTail(service);
    }
    EXPECT_EQ(StoredState(), before_) << "hostile input changed what is stored";
  }

  // What each service stores, as its list RPCs show it (in text format,
  // whose maps are sorted, unlike the wire's).
  static std::map<std::string, std::string> StoredState() {
    std::map<std::string, std::string> state;
    const auto list = [&](Service service, const std::string& method, const std::string& request) {
      RawCallResult result = CallRaw(stack_->target(service), method, request);
      EXPECT_TRUE(result.status.ok()) << method << ": " << result.status.error_message();
      const std::string name = method.substr(1);  // "pkg.Service/Method"
      const auto* descriptor = google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
          absl::StrReplaceAll(name, {{"/", "."}}));
      EXPECT_NE(descriptor, nullptr) << method;
      if (descriptor == nullptr) return;
      std::unique_ptr<google::protobuf::Message> response(
          google::protobuf::MessageFactory::generated_factory()
              ->GetPrototype(descriptor->output_type())
              ->New());
      EXPECT_TRUE(response->ParseFromString(result.response)) << method;
      state[method + " " + absl::CEscape(request)] = response->DebugString();
    };
    list(Service::kIntake, kListIssues, VarintField(1, 1000));
    list(Service::kRouting, "/switchboard.routing.v1.RoutingService/ListRulesetRevisions",
         VarintField(1, 100));
    list(Service::kNotification,
         "/switchboard.notification.v1.NotificationService/ListPushSubscriptions", "");
    list(Service::kNotification, "/switchboard.notification.v1.NotificationService/ListDeadLetters",
         "");
    for (const char* subscriber : {"teams/security-response", "sources/crm"}) {
      list(Service::kNotification,
           "/switchboard.notification.v1.NotificationService/ListNotifications",
           Field(1, subscriber) + VarintField(2, 1000));
    }
    return state;
  }

  // Every unary method the three services serve: "/pkg.Service/Method" and
  // the service it is on.
  static std::vector<std::pair<std::string, Service>> UnaryMethods() {
    // Linked in, so that the generated pool knows the internal service.
    (void)intake::v1::DeliverPartitionMessagesRequest::descriptor();
    std::vector<std::pair<std::string, Service>> methods;
    const std::pair<const char*, Service> services[] = {
        {"switchboard.intake.v1.IntakeService", Service::kIntake},
        {"switchboard.intake.v1.IntakePartitionService", Service::kIntake},
        {"switchboard.routing.v1.RoutingService", Service::kRouting},
        {"switchboard.notification.v1.NotificationService", Service::kNotification}};
    for (const auto& [name, service] : services) {
      const auto* descriptor =
          google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name);
      EXPECT_NE(descriptor, nullptr) << name;
      if (descriptor == nullptr) continue;
      for (int i = 0; i < descriptor->method_count(); ++i) {
        const auto* method = descriptor->method(i);
        if (method->server_streaming() || method->client_streaming()) continue;
        methods.emplace_back(absl::StrCat("/", name, "/", method->name()), service);
      }
    }
    return methods;
  }

  static RawCallResult Call(Service service, const std::string& method, const std::string& bytes) {
    return CallRaw(stack_->target(service), method, bytes);
  }

  static Stack* stack_;
  std::map<std::string, std::string> before_;
};

Stack* HostileInputTest::stack_ = nullptr;

TEST_F(HostileInputTest, BytesThatAreNotProtobufAreInvalidArgumentOnEveryMethod) {
  const std::vector<std::string> garbage = {
      std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11),  // varint too long
      std::string("\x0a\xff\xff\xff\x0f", 5),                           // length past the end
      std::string("\x0b", 1),                                           // group never ended
      std::string("\x07\x00", 2),                                       // wire type 7
  };
  const auto methods = UnaryMethods();
  ASSERT_GE(methods.size(), 20u);
  for (const auto& [method, service] : methods) {
    for (const std::string& bytes : garbage) {
      RawCallResult result = Call(service, method, bytes);
      EXPECT_EQ(result.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
          << method << " " << absl::CEscape(bytes) << ": " << result.status.error_message();
      EXPECT_THAT(result.status.error_message(), ::testing::HasSubstr("not a valid"));
    }
  }
}

TEST_F(HostileInputTest, OversizedRequestsAreResourceExhaustedOnEveryMethod) {
  const std::string huge = Field(1, std::string(2 << 20, 'x'));
  for (const auto& [method, service] : UnaryMethods()) {
    EXPECT_EQ(Call(service, method, huge).status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
        << method;
  }
}

TEST_F(HostileInputTest, InvalidUtf8UnknownEnumsAndHugeMapsAreRefusedWithTheField) {
  const std::string target = stack_->target(Service::kIntake);
  struct Case {
    const char* what;
    std::string issue;
  };
  std::string many_labels;
  for (int i = 0; i < 20000; ++i) {
    many_labels += Field(8, Field(1, absl::StrCat("k", i)) + Field(2, "v"));
  }
  const Case cases[] = {
      {"invalid UTF-8 title", Field(2, "caf\xc3") + Field(4, Field(1, "c")) + Field(5, "p") +
                                  VarintField(6, 2) + Field(9, "crm")},
      {"unknown severity", IssueBytes(VarintField(6, 99))},
      {"unknown customer tier", IssueBytes(Field(4, Field(1, "c") + VarintField(3, 1234)))},
      {"20000 labels", IssueBytes(many_labels)},
      {"label value of 64 KiB",
       IssueBytes(Field(8, Field(1, "k") + Field(2, std::string(65536, 'v'))))},
      {"title of 100k characters", IssueBytes(Field(2, std::string(100000, 't')))},
  };
  for (const Case& c : cases) {
    RawCallResult result = CallRaw(target, kSubmit, SubmitBytes(c.issue, c.what));
    EXPECT_EQ(result.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << c.what << ": " << result.status.error_message();
  }
  // A ruleset with a huge SLA map and a pathological pattern.
  std::string sla;
  for (int i = 0; i < 20000; ++i) {
    sla += Field(2, Field(1, absl::StrCat("SEVERITY_", i)) + Field(2, VarintField(1, 60)));
  }
  const std::string ruleset =
      Field(2, Field(1, "g") + Field(3, Field(1, "t"))) + Field(3, Field(1, "p") + sla) +
      Field(4, Field(1, "r") +
                   Field(3, Field(1, "title") + VarintField(2, 4) +
                                Field(3, "((((((((((a{100}){100}){100}){100})))))))")) +
                   Field(4, Field(1, "g") + Field(2, "t"))) +
      Field(5, Field(1, "g") + Field(2, "t"));
  RawCallResult applied = Call(
      Service::kRouting, "/switchboard.routing.v1.RoutingService/ApplyRuleset", Field(1, ruleset));
  EXPECT_EQ(applied.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << applied.status.error_message();
}

TEST_F(HostileInputTest, DeepNestingAndHugeListsAreRefused) {
  // 100k nested groups inside an unknown field of the issue: protobuf's
  // recursion limit stops the parser, not the stack.
  std::string nested;
  for (int i = 0; i < 100000; ++i) nested += Varint((99u << 3) | 3);  // start group 99
  RawCallResult deep = Call(Service::kIntake, kSubmit, SubmitBytes(IssueBytes(nested), "deep"));
  EXPECT_EQ(deep.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  // 200k empty issues to route, 200k empty events to publish.
  std::string issues;
  for (int i = 0; i < 200000; ++i) issues += Field(1, "");
  EXPECT_EQ(Call(Service::kRouting, "/switchboard.routing.v1.RoutingService/RouteIssues", issues)
                .status.error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Call(Service::kNotification, "/switchboard.notification.v1.NotificationService/Publish",
                 issues)
                .status.error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(HostileInputTest, TamperedOrForgedPageTokensAreInvalidArgument) {
  // A real token, from a first page of one.
  RawCallResult first = Call(Service::kIntake, kListIssues, VarintField(1, 1));
  ASSERT_TRUE(first.status.ok());
  intake::v1::ListIssuesResponse page;
  ASSERT_TRUE(page.ParseFromString(first.response));
  std::string token = page.next_page_token();
  if (token.empty()) {
    // Only one issue stored: store a second to get a token.
    ASSERT_TRUE(
        Call(Service::kIntake, kSubmit, SubmitBytes(IssueBytes(), "hostile-second")).status.ok());
    ASSERT_TRUE(AwaitDelivered(2));
    before_ = StoredState();
    first = Call(Service::kIntake, kListIssues, VarintField(1, 1));
    ASSERT_TRUE(page.ParseFromString(first.response));
    token = page.next_page_token();
  }
  ASSERT_FALSE(token.empty());
  std::string raw;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(token, &raw));
  std::vector<std::string> tampered = {"", "AAAA", "djEKaXNzdWVzCjAKWlpa", token + "A",
                                       token.substr(1)};
  for (size_t i = 0; i < raw.size(); i += 3) {
    std::string altered = raw;
    altered[i] ^= 0x20;
    tampered.push_back(absl::WebSafeBase64Escape(altered));
  }
  for (const std::string& bad : tampered) {
    if (bad.empty()) continue;  // "" is the first page
    RawCallResult result = Call(Service::kIntake, kListIssues, VarintField(1, 1) + Field(2, bad));
    EXPECT_EQ(result.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << bad;
  }
  // The same token on another service's list is not accepted either.
  EXPECT_EQ(Call(Service::kRouting, "/switchboard.routing.v1.RoutingService/ListRulesetRevisions",
                 Field(2, token))
                .status.error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Call(Service::kNotification,
                 "/switchboard.notification.v1.NotificationService/ListNotifications",
                 Field(1, "teams/triage") + Field(3, token))
                .status.error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

// Every string field reachable in a request (through singular, repeated and
// map fields, a few levels deep): the path of fields to it.
using FieldPath = std::vector<const google::protobuf::FieldDescriptor*>;

void CollectStringFields(const google::protobuf::Descriptor* message, FieldPath& prefix,
                         std::vector<FieldPath>& out) {
  for (int i = 0; i < message->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* field = message->field(i);
    prefix.push_back(field);
    if (field->type() == google::protobuf::FieldDescriptor::TYPE_STRING) {
      out.push_back(prefix);
    } else if (field->type() == google::protobuf::FieldDescriptor::TYPE_MESSAGE &&
               prefix.size() < 4) {
      CollectStringFields(field->message_type(), prefix, out);
    }
    prefix.pop_back();
  }
}

// Sets the string at `path` in `message` to `value`: the first element of a
// repeated field (added if there is none), a new entry of a map.
void SetString(google::protobuf::Message& message, const FieldPath& path,
               const std::string& value) {
  google::protobuf::Message* at = &message;
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    const auto* reflection = at->GetReflection();
    const auto* field = path[i];
    if (!field->is_repeated()) {
      at = reflection->MutableMessage(at, field);
    } else if (field->is_map() || reflection->FieldSize(*at, field) == 0) {
      at = reflection->AddMessage(at, field);
    } else {
      at = reflection->MutableRepeatedMessage(at, field, 0);
    }
  }
  const auto* reflection = at->GetReflection();
  if (!path.back()->is_repeated()) {
    reflection->SetString(at, path.back(), value);
  } else if (reflection->FieldSize(*at, path.back()) == 0) {
    reflection->AddString(at, path.back(), value);
  } else {
    reflection->SetRepeatedString(at, path.back(), 0, value);
  }
}

std::string PathName(const FieldPath& path) {
  std::string name;
  for (const auto* field : path) absl::StrAppend(&name, name.empty() ? "" : ".", field->name());
  return name;
}

// The name an error gives the field at `path`: its own, or for a map's key
// or value the map's.
std::string ReportedName(const FieldPath& path) {
  if (path.size() > 1 && path.back()->containing_type()->options().map_entry()) {
    return path[path.size() - 2]->name();
  }
  return path.back()->name();
}

// Fields a request may carry that are not the caller's to set long: output
// only fields, which the services ignore on input (AIP-203), and what
// Publish carries through. Publish is for the service role only; its events'
// issues and texts were validated by intake on the way in and are bounded by
// the 1 MiB request limit; refusing one would wedge intake's event queue.
bool IgnoredOnInput(const std::string& method, const FieldPath& path) {
  const std::string name = PathName(path);
  if (absl::EndsWith(method, "/Publish")) {
    return name != "events.id" && name != "events.recipients";
  }
  // Internal, from intake's own partitions (the service role) only: the
  // messages carry what the sender already validated and stored, and one
  // that is not well formed is dropped whole, not refused field by field.
  if (absl::EndsWith(method, "/DeliverPartitionMessages")) return true;
  // The one request whose issue's assignment is input: where to escalate from.
  if (absl::EndsWith(method, "/EscalateIssue") && absl::StrContains(name, "issue.assignment.")) {
    return false;
  }
  return absl::StrContains(name, "issue.assignment.") ||
         absl::StrContains(name, "issues.assignment.") || absl::StrContains(name, "issue.sla.") ||
         absl::StrContains(name, "issues.sla.") || absl::EndsWith(name, "issue.name") ||
         absl::EndsWith(name, "issues.name") || absl::EndsWith(name, "issue.etag") ||
         absl::EndsWith(name, "issues.etag") || absl::EndsWith(name, "issue.resolution") ||
         absl::EndsWith(name, "issues.resolution") || absl::EndsWith(name, "issue.problem") ||
         absl::EndsWith(name, "issues.problem") || name == "ruleset.author" ||
         name == "candidate.author";
}

TEST_F(HostileInputTest, EveryStringInEveryRequestIsBounded) {
  // For each unary method a request that passes validation and, sent as it
  // is, changes nothing stored: its expected outcome, then the same request
  // with one string field at a time made 256 KiB long (more than any field
  // allows, well under the 1 MiB request limit). Each of those must be
  // INVALID_ARGUMENT naming that field.
  const auto issue_titled = [](absl::string_view title) {
    return absl::StrCat("title: '", title, "'",
                        R"( customer { id: "cust-1" display_name: "Contoso" country: "NL" }
         product: "defender" severity: SEVERITY_HIGH region: "westeurope"
         labels { key: "channel" value: "phone" } source: "crm" submitter: "agent@example.com")");
  };
  const std::string issue = issue_titled("Alerts stopped");
  const std::string missing = "issues/01jd8x3q5w0000000000000000";  // no such issue
  RawCallResult active_call =
      Call(Service::kRouting, "/switchboard.routing.v1.RoutingService/GetRuleset", "");
  ASSERT_TRUE(active_call.status.ok());
  routing::v1::Ruleset active;
  ASSERT_TRUE(active.ParseFromString(active_call.response));
  const std::string ruleset = active.ShortDebugString();
  notification::v1::ListNotificationsResponse delivered;
  ASSERT_TRUE(delivered.ParseFromString(
      Call(Service::kNotification,
           "/switchboard.notification.v1.NotificationService/ListNotifications",
           Field(1, "teams/security-response") + VarintField(2, 1))
          .response));
  ASSERT_EQ(delivered.notifications_size(), 1);
  const std::string event = delivered.notifications(0).event().ShortDebugString();

  struct Base {
    std::string text;          // the request, in text format
    grpc::StatusCode outcome;  // sent as it is; -1: not sent (it would store something)
  };
  const grpc::StatusCode kNotSent = static_cast<grpc::StatusCode>(-1);
  const std::map<std::string, Base> bases = {
      // The seed's request id with another issue: refused after validation.
      {"SubmitIssue",
       {absl::StrCat(R"(request_id: "hostile-seed" issue { )", issue_titled("another"), " }"),
        grpc::StatusCode::ALREADY_EXISTS}},
      {"GetIssue", {absl::StrCat("name: '", missing, "'"), grpc::StatusCode::NOT_FOUND}},
      {"ListIssues", {R"(page_size: 5 filter: "source=crm")", grpc::StatusCode::OK}},
      {"GetProblem", {"name: 'problems/01jd8x3q5w0000000000000000'", grpc::StatusCode::NOT_FOUND}},
      {"ListProblems",
       {R"(page_size: 5 filter: "state=PROBLEM_STATE_OPEN")", grpc::StatusCode::OK}},
      {"AcknowledgeProblem",
       {R"(name: 'problems/01jd8x3q5w0000000000000000' actor: "dana" etag: "2")",
        grpc::StatusCode::NOT_FOUND}},
      {"ResolveProblem",
       {R"(name: 'problems/01jd8x3q5w0000000000000000' actor: "dana" resolution: "fixed"
           etag: "2")",
        grpc::StatusCode::NOT_FOUND}},
      {"TransferProblem",
       {R"(name: 'problems/01jd8x3q5w0000000000000000' actor: "dana" reason: "not ours"
           etag: "2" target { business_group: "security" team: "security-leadership" })",
        grpc::StatusCode::NOT_FOUND}},
      {"LinkIssue",
       {absl::StrCat("name: '", missing,
                     R"(' problem: 'problems/01jd8x3q5w0000000000000000' actor: "dana"
                        etag: "2")"),
        grpc::StatusCode::NOT_FOUND}},
      {"UnlinkIssue",
       {absl::StrCat("name: '", missing,
                     R"(' problem: 'problems/01jd8x3q5w0000000000000000' actor: "dana"
                        etag: "2" reason: "not the same fault")"),
        grpc::StatusCode::NOT_FOUND}},
      {"WaitOnCustomer",
       {absl::StrCat("name: '", missing, R"(' actor: "dana" etag: "2" question: "Which region?")"),
        grpc::StatusCode::NOT_FOUND}},
      {"RespondToIssue",
       {absl::StrCat("name: '", missing, R"(' actor: "crm" etag: "2" response: "West Europe")"),
        grpc::StatusCode::NOT_FOUND}},
      {"ResumeIssue",
       {absl::StrCat("name: '", missing, R"(' actor: "dana" etag: "2" reason: "found it")"),
        grpc::StatusCode::NOT_FOUND}},
      {"ReopenIssue",
       {absl::StrCat("name: '", missing, R"(' actor: "crm" etag: "2" reason: "still failing")"),
        grpc::StatusCode::NOT_FOUND}},
      {"RateIssue",
       {absl::StrCat("name: '", missing, R"(' actor: "crm" etag: "2" rating: 4 comment: "ok")"),
        grpc::StatusCode::NOT_FOUND}},
      // An issue that does not exist was linked: dropped, nothing stored.
      {"DeliverPartitionMessages",
       {absl::StrCat("sender: 0 messages { linked { issue: '", missing,
                     "' problem { name: 'problems/01jd8x3q5w0000000000000000' } } }"),
        grpc::StatusCode::OK}},
      {"AcknowledgeIssue",
       {absl::StrCat("name: '", missing, R"(' actor: "dana" etag: "2")"),
        grpc::StatusCode::NOT_FOUND}},
      {"ResolveIssue",
       {absl::StrCat("name: '", missing, R"(' actor: "dana" resolution: "fixed" etag: "2")"),
        grpc::StatusCode::NOT_FOUND}},
      {"TransferIssue",
       {absl::StrCat("name: '", missing,
                     R"(' actor: "dana" reason: "not ours" etag: "2"
                        target { business_group: "security" team: "security-leadership" })"),
        grpc::StatusCode::NOT_FOUND}},
      {"RouteIssue", {absl::StrCat("explain: true issue { ", issue, " }"), grpc::StatusCode::OK}},
      {"RouteIssues", {absl::StrCat("requests { issue { ", issue, " } }"), grpc::StatusCode::OK}},
      {"EscalateIssue",
       {absl::StrCat(
            "issue { ", issue,
            R"( assignment { target { business_group: "security" team: "security-response" }
                                     rule: "security-first" } })"),
        grpc::StatusCode::OK}},
      {"RouteToTarget",
       {absl::StrCat("issue { ", issue,
                     R"( } target { business_group: "security" team: "security-leadership" })"),
        grpc::StatusCode::OK}},
      {"GetRuleset", {"", grpc::StatusCode::OK}},
      {"ListRulesetRevisions", {"page_size: 5", grpc::StatusCode::OK}},
      {"TestRuleset",
       {absl::StrCat("candidate { ", ruleset, " } issues { ", issue, " }"), grpc::StatusCode::OK}},
      {"ApplyRuleset",
       {absl::StrCat("validate_only: true ruleset { ", ruleset, " }"), grpc::StatusCode::OK}},
      // An event every recipient already has: skipped.
      {"Publish", {absl::StrCat("events { ", event, " }"), grpc::StatusCode::OK}},
      {"AcknowledgeNotifications",
       {R"(subscriber: "teams/security-response" sequence: 1)", grpc::StatusCode::OK}},
      {"ListNotifications",
       {R"(subscriber: "teams/security-response" page_size: 5)", grpc::StatusCode::OK}},
      {"CreatePushSubscription",
       {R"(subscription { subscriber: "teams/triage" endpoint: "127.0.0.1:9" })", kNotSent}},
      {"ListPushSubscriptions", {"page_size: 5", grpc::StatusCode::OK}},
      {"DeletePushSubscription", {R"(subscriber: "teams/nobody")", grpc::StatusCode::NOT_FOUND}},
      {"ListDeadLetters", {R"(subscriber: "teams/triage")", grpc::StatusCode::OK}},
      {"RedriveDeadLetters", {R"(subscriber: "teams/nobody")", grpc::StatusCode::OK}},
      {"ListDeliveryAttempts",
       {R"(subscriber: "teams/security-response" page_size: 5)", grpc::StatusCode::OK}},
  };

  const std::string long_value(256 * 1024, 'a');
  std::vector<std::string> unbounded;
  int checked = 0;
  for (const auto& [method, service] : UnaryMethods()) {
    const auto* descriptor = google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
        absl::StrReplaceAll(method.substr(1), {{"/", "."}}));
    ASSERT_NE(descriptor, nullptr) << method;
    auto base = bases.find(descriptor->name());
    ASSERT_NE(base, bases.end()) << "no base request for " << method;
    std::unique_ptr<google::protobuf::Message> request(
        google::protobuf::MessageFactory::generated_factory()
            ->GetPrototype(descriptor->input_type())
            ->New());
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(base->second.text, request.get()))
        << method;
    if (base->second.outcome != kNotSent) {
      const RawCallResult sent = Call(service, method, request->SerializeAsString());
      ASSERT_EQ(sent.status.error_code(), base->second.outcome)
          << method << ": " << sent.status.error_message();
    }
    FieldPath prefix;
    std::vector<FieldPath> strings;
    CollectStringFields(descriptor->input_type(), prefix, strings);
    for (const FieldPath& path : strings) {
      if (IgnoredOnInput(method, path)) continue;
      ++checked;
      std::unique_ptr<google::protobuf::Message> hostile(request->New());
      hostile->CopyFrom(*request);
      SetString(*hostile, path, long_value);
      const absl::Status status =
          FromGrpcStatus(Call(service, method, hostile->SerializeAsString()).status);
      bool named = false;
      for (const FieldViolation& violation : GetFieldViolations(status)) {
        named = named || absl::StrContains(violation.field, ReportedName(path));
      }
      if (status.code() != absl::StatusCode::kInvalidArgument || !named) {
        unbounded.push_back(absl::StrCat(method, " ", PathName(path), ": ",
                                         StatusCodeName(status.code()), " ",
                                         status.message().substr(0, 160)));
      }
    }
  }
  EXPECT_GE(checked, 100);
  EXPECT_THAT(unbounded, ::testing::IsEmpty());
}

TEST_F(HostileInputTest, SubscribeRefusesWhatItCannotParseBeforeStreaming) {
  auto notifications = notification::v1::NotificationService::NewStub(grpc::CreateChannel(
      stack_->target(Service::kNotification), grpc::InsecureChannelCredentials()));
  // Field 1 (subscriber) as raw bytes, so the client sends them unchecked.
  for (const std::string& subscriber :
       {std::string("teams/\xff\xfe"), std::string(300 * 1024, 'a'), std::string("teams/")}) {
    notification::v1::SubscribeRequest request;
    request.GetReflection()->MutableUnknownFields(&request)->AddLengthDelimited(1, subscriber);
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    auto stream = notifications->Subscribe(&context, request);
    notification::v1::Notification first;
    EXPECT_FALSE(stream->Read(&first));
    EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << absl::CEscape(subscriber.substr(0, 16));
  }
}

// Sends `bytes` on a fresh TCP connection and reads until the server
// closes it (or 5 s pass). Returns whether it closed.
bool ServerCloses(int port, const std::string& bytes) {
  const int fd = ConnectLoopback(port);
  if (fd < 0) return false;
  (void)!write(fd, bytes.data(), bytes.size());
  char buffer[4096];
  bool closed = false;
  for (int reads = 0; reads < 100; ++reads) {
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n <= 0) {
      closed = n == 0 || errno == ECONNRESET;
      break;
    }
  }
  close(fd);
  return closed;
}

int PortOf(const std::string& target) { return std::stoi(target.substr(target.rfind(':') + 1)); }

TEST_F(HostileInputTest, MalformedHttp2FramesCloseTheConnectionOnly) {
  const std::string preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  const std::string settings("\x00\x00\x00\x04\x00\x00\x00\x00\x00", 9);
  const std::vector<std::pair<const char*, std::string>> attacks = {
      {"not HTTP/2 at all", "GET / HTTP/1.1\r\nHost: x\r\n\r\n"},
      {"garbage after the preface", preface + std::string(64, '\xff')},
      // A HEADERS frame on stream 1 whose HPACK block is an index that does
      // not exist.
      {"bad HPACK",
       preface + settings + std::string("\x00\x00\x01\x01\x05\x00\x00\x00\x01\xff", 10)},
      // A DATA frame claiming 16 MiB, on a stream never opened.
      {"oversized frame",
       preface + settings + std::string("\xff\xff\xff\x00\x00\x00\x00\x00\x03", 9)},
      // SETTINGS with a length that is not a multiple of 6.
      {"bad SETTINGS", preface + std::string("\x00\x00\x05\x04\x00\x00\x00\x00\x00xxxxx", 14)},
  };
  for (Service service : {Service::kIntake, Service::kRouting, Service::kNotification}) {
    for (const auto& [what, bytes] : attacks) {
      EXPECT_TRUE(ServerCloses(PortOf(stack_->target(service)), bytes)) << what;
    }
  }
}

}  // namespace
}  // namespace switchboard::testing
