// switchboard notifications watch | list | ack | dead-letters | redrive |
// attempts | push create | push list | push delete
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <ctime>
#include <ostream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "cli/commands.h"
#include "cli/format.h"
#include "cli/session.h"
#include "common/proto_time.h"

namespace switchboard::cli {
namespace {

namespace nv1 = ::switchboard::notification::v1;

// Cancels a call when SIGINT or SIGTERM arrives, so that Ctrl-C ends a watch
// cleanly. Construct it before any gRPC channel exists: it blocks the two
// signals in this thread, and threads created later inherit the mask, so
// only its own thread receives them.
class CancelOnSignal {
 public:
  explicit CancelOnSignal(grpc::ClientContext& context) {
    sigemptyset(&signals_);
    sigaddset(&signals_, SIGINT);
    sigaddset(&signals_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
    thread_ = std::thread([this, &context] {
      const timespec poll = {.tv_sec = 0, .tv_nsec = 100'000'000};
      while (!done_.load()) {
        if (sigtimedwait(&signals_, nullptr, &poll) > 0) {
          interrupted_ = true;
          context.TryCancel();
          return;
        }
      }
    });
  }
  ~CancelOnSignal() {
    done_ = true;
    thread_.join();
  }
  bool interrupted() const { return interrupted_.load(); }

 private:
  sigset_t signals_;
  std::atomic<bool> done_{false};
  std::atomic<bool> interrupted_{false};
  std::thread thread_;
};

void Print(Session& session, const nv1::Notification& notification) {
  if (session.json()) {
    session.PrintJson(notification);
  } else {
    session.out() << FormatNotification(notification) << "\n";
  }
}

int Watch(Session& session, const ParsedArgs& args) {
  auto count = args.GetInt("count", 0, 0, INT64_MAX);
  if (!count.ok()) return session.UsageError(count.status().message());
  auto start_after = args.GetInt("start-after", 0, 0, INT64_MAX);
  if (!start_after.ok()) return session.UsageError(start_after.status().message());
  auto duration = args.GetDuration("for", absl::InfiniteDuration());
  if (!duration.ok()) return session.UsageError(duration.status().message());

  grpc::ClientContext context;
  if (*duration != absl::InfiniteDuration()) {
    context.set_deadline(absl::ToChronoTime(absl::Now() + *duration));
  }
  CancelOnSignal cancel_on_signal(context);
  nv1::SubscribeRequest request;
  request.set_subscriber(args.positional()[0]);
  request.set_start_after(static_cast<uint64_t>(*start_after));
  auto stream = session.notification().Subscribe(&context, request);
  if (!session.json()) {
    session.err() << "watching " << request.subscriber() << " at " << session.notification_target()
                  << " (Ctrl-C to stop)\n";
  }
  int64_t seen = 0;
  nv1::Notification notification;
  while (stream->Read(&notification)) {
    Print(session, notification);
    session.out().flush();
    if (args.Has("ack")) {
      nv1::AcknowledgeNotificationsRequest ack;
      ack.set_subscriber(request.subscriber());
      ack.set_sequence(notification.sequence());
      auto ack_context = session.Context();
      nv1::AcknowledgeNotificationsResponse ignored;
      grpc::Status status =
          session.notification().AcknowledgeNotifications(ack_context.get(), ack, &ignored);
      if (!status.ok()) {
        context.TryCancel();
        stream->Finish().IgnoreError();
        return session.Fail("cannot acknowledge", status, "notification");
      }
    }
    if (*count > 0 && ++seen == *count) {
      context.TryCancel();
      break;
    }
  }
  grpc::Status status = stream->Finish();
  const bool ended_as_asked = (*count > 0 && seen == *count) || cancel_on_signal.interrupted() ||
                              (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED &&
                               *duration != absl::InfiniteDuration());
  if (status.ok() || ended_as_asked) return 0;
  return session.Fail(absl::StrCat("the stream of ", request.subscriber(), " failed"), status,
                      "notification");
}

int List(Session& session, const ParsedArgs& args) {
  nv1::ListNotificationsRequest request;
  request.set_subscriber(args.positional()[0]);
  return session.List<nv1::ListNotificationsResponse>(
      args, 100, request, "notifications", "notification",
      [&](auto* context, const auto& r, auto* page) {
        return session.notification().ListNotifications(context, r, page);
      },
      [&](const nv1::ListNotificationsResponse& all) {
        if (all.notifications().empty()) session.out() << "no notifications\n";
        for (const auto& notification : all.notifications()) Print(session, notification);
      });
}

int Acknowledge(Session& session, const ParsedArgs& args) {
  auto sequence = args.GetInt("up-to", -1, 1, INT64_MAX);
  if (!sequence.ok()) return session.UsageError(sequence.status().message());
  if (*sequence < 0) return session.UsageError("--up-to is required");
  nv1::AcknowledgeNotificationsRequest request;
  request.set_subscriber(args.positional()[0]);
  request.set_sequence(static_cast<uint64_t>(*sequence));
  auto context = session.Context();
  nv1::AcknowledgeNotificationsResponse response;
  grpc::Status status =
      session.notification().AcknowledgeNotifications(context.get(), request, &response);
  if (!status.ok()) return session.Fail("cannot acknowledge", status, "notification");
  if (session.json()) {
    session.PrintJson(response);
  } else {
    session.out() << request.subscriber() << ": acknowledged up to #"
                  << response.acknowledged_sequence() << "\n";
  }
  return 0;
}

int DeadLetters(Session& session, const ParsedArgs& args) {
  nv1::ListDeadLettersRequest request;
  if (!args.positional().empty()) request.set_subscriber(args.positional()[0]);
  return session.List<nv1::ListDeadLettersResponse>(
      args, 100, request, "dead letters", "notification",
      [&](auto* context, const auto& r, auto* page) {
        return session.notification().ListDeadLetters(context, r, page);
      },
      [&](const nv1::ListDeadLettersResponse& all) {
        if (all.dead_letters().empty()) session.out() << "no dead letters\n";
        const absl::Time now = absl::Now();
        for (const nv1::DeadLetter& letter : all.dead_letters()) {
          session.out() << letter.notification().subscriber() << "  "
                        << FormatNotification(letter.notification()) << "\n    "
                        << letter.attempts() << " attempts, last " << letter.last_code() << ": "
                        << letter.last_message() << ", "
                        << FormatTime(letter.dead_letter_time(), now) << "\n";
        }
      });
}

int Redrive(Session& session, const ParsedArgs& args) {
  nv1::RedriveDeadLettersRequest request;
  if (!args.positional().empty()) request.set_subscriber(args.positional()[0]);
  auto context = session.Context();
  nv1::RedriveDeadLettersResponse response;
  grpc::Status status =
      session.notification().RedriveDeadLetters(context.get(), request, &response);
  if (!status.ok()) return session.Fail("cannot redrive", status, "notification");
  if (session.json()) {
    session.PrintJson(response);
  } else {
    session.out() << "redriven: " << response.redriven() << " dead letters will be pushed again\n";
  }
  return 0;
}

int Attempts(Session& session, const ParsedArgs& args) {
  nv1::ListDeliveryAttemptsRequest request;
  request.set_subscriber(args.Get("subscriber"));
  request.set_event_id(args.Get("event"));
  if (request.subscriber().empty() == request.event_id().empty()) {
    return session.UsageError("give exactly one of --subscriber and --event");
  }
  return session.List<nv1::ListDeliveryAttemptsResponse>(
      args, 100, request, "delivery attempts", "notification",
      [&](auto* context, const auto& r, auto* page) {
        return session.notification().ListDeliveryAttempts(context, r, page);
      },
      [&](const nv1::ListDeliveryAttemptsResponse& all) {
        if (all.attempts().empty()) session.out() << "no delivery attempts\n";
        const absl::Time now = absl::Now();
        for (const nv1::DeliveryAttempt& attempt : all.attempts()) {
          session.out() << absl::StrFormat(
              "%s  #%d  attempt %d  %-18s %s%s\n", FormatTime(attempt.time(), now),
              attempt.sequence(), attempt.attempt(),
              ShortEnumName(*nv1::AttemptOutcome_descriptor(), attempt.outcome()), attempt.code(),
              attempt.message().empty() ? "" : absl::StrCat(": ", attempt.message()));
        }
      });
}

int PushCreate(Session& session, const ParsedArgs& args) {
  if (!args.Has("endpoint")) return session.UsageError("--endpoint is required");
  nv1::CreatePushSubscriptionRequest request;
  request.mutable_subscription()->set_subscriber(args.positional()[0]);
  request.mutable_subscription()->set_endpoint(args.Get("endpoint"));
  auto context = session.Context();
  nv1::PushSubscription subscription;
  grpc::Status status =
      session.notification().CreatePushSubscription(context.get(), request, &subscription);
  if (!status.ok())
    return session.Fail("cannot create the push subscription", status, "notification");
  if (session.json()) {
    session.PrintJson(subscription);
  } else {
    session.out() << subscription.subscriber() << " is pushed to " << subscription.endpoint()
                  << " after #" << subscription.delivered_sequence() << "\n";
  }
  return 0;
}

int PushList(Session& session, const ParsedArgs& args) {
  return session.List<nv1::ListPushSubscriptionsResponse>(
      args, 100, nv1::ListPushSubscriptionsRequest(), "push subscriptions", "notification",
      [&](auto* context, const auto& r, auto* page) {
        return session.notification().ListPushSubscriptions(context, r, page);
      },
      [&](const nv1::ListPushSubscriptionsResponse& all) {
        if (all.subscriptions().empty()) session.out() << "no push subscriptions\n";
        for (const nv1::PushSubscription& subscription : all.subscriptions()) {
          session.out() << absl::StrFormat("%-40s  %-24s  delivered up to #%d\n",
                                           subscription.subscriber(), subscription.endpoint(),
                                           subscription.delivered_sequence());
        }
      });
}

int PushDelete(Session& session, const ParsedArgs& args) {
  nv1::DeletePushSubscriptionRequest request;
  request.set_subscriber(args.positional()[0]);
  auto context = session.Context();
  nv1::DeletePushSubscriptionResponse response;
  grpc::Status status =
      session.notification().DeletePushSubscription(context.get(), request, &response);
  if (!status.ok())
    return session.Fail("cannot delete the push subscription", status, "notification");
  if (!session.json())
    session.out() << "deleted the push subscription of " << request.subscriber() << "\n";
  return 0;
}

constexpr char kSubscriberHelp[] =
    "SUBSCRIBER is teams/{team}, business-groups/{group}, sources/{source} or\n"
    "submitters/{submitter}.";

}  // namespace

void AddNotificationCommands(CommandLine& command_line) {
  command_line.AddGroup("notifications",
                        "Read what subscribers were told; manage push delivery "
                        "(NotificationService).");
  command_line.Add({
      .path = {"notifications", "watch"},
      .arguments = "SUBSCRIBER",
      .summary = "stream a subscriber's notifications live",
      .description = absl::StrCat(
          "First every stored notification after the subscriber's acknowledged cursor (or\n"
          "--start-after), then live ones, until Ctrl-C, --count or --for.\n",
          kSubscriberHelp),
      .flags = {{.name = "start-after",
                 .value_name = "N",
                 .help = "begin after sequence N (default: after the acknowledged cursor)"},
                {.name = "ack", .help = "acknowledge each notification once printed"},
                {.name = "count", .value_name = "N", .help = "stop after N notifications"},
                {.name = "for", .value_name = "DURATION", .help = "stop after this long"}},
      .min_args = 1,
      .max_args = 1,
      .run = Watch,
  });
  command_line.Add({
      .path = {"notifications", "list"},
      .arguments = "SUBSCRIBER",
      .summary = "list a subscriber's stored notifications, oldest first",
      .description = kSubscriberHelp,
      .flags = PagingFlags(100),
      .min_args = 1,
      .max_args = 1,
      .run = List,
  });
  command_line.Add({
      .path = {"notifications", "ack"},
      .arguments = "SUBSCRIBER",
      .summary = "acknowledge a subscriber's notifications up to a sequence",
      .flags = {{.name = "up-to",
                 .value_name = "N",
                 .help = "the last sequence handled (required)"}},
      .min_args = 1,
      .max_args = 1,
      .run = Acknowledge,
  });
  command_line.Add({
      .path = {"notifications", "dead-letters"},
      .arguments = "[SUBSCRIBER]",
      .summary = "list pushes that exhausted their retries",
      .flags = PagingFlags(100),
      .max_args = 1,
      .run = DeadLetters,
  });
  command_line.Add({
      .path = {"notifications", "redrive"},
      .arguments = "[SUBSCRIBER]",
      .summary = "push dead letters again (of one subscriber, or all)",
      .max_args = 1,
      .run = Redrive,
  });
  command_line.Add({
      .path = {"notifications", "attempts"},
      .summary = "list push delivery attempts, newest first",
      .flags =
          JoinFlags({{.name = "subscriber", .value_name = "SUBSCRIBER", .help = "of a subscriber"},
                     {.name = "event", .value_name = "ID", .help = "of an event"}},
                    PagingFlags(100)),
      .run = Attempts,
  });
  command_line.Add({
      .path = {"notifications", "push", "create"},
      .arguments = "SUBSCRIBER",
      .summary = "push a subscriber's notifications to a NotificationReceiver",
      .description = "Replaces an existing subscription of the subscriber and keeps its progress.",
      .flags = {{.name = "endpoint",
                 .value_name = "HOST:PORT",
                 .help = "where the team's NotificationReceiver listens (required)"}},
      .min_args = 1,
      .max_args = 1,
      .run = PushCreate,
  });
  command_line.Add({
      .path = {"notifications", "push", "list"},
      .summary = "list push subscriptions",
      .flags = PagingFlags(100),
      .run = PushList,
  });
  command_line.Add({
      .path = {"notifications", "push", "delete"},
      .arguments = "SUBSCRIBER",
      .summary = "stop pushing a subscriber's notifications",
      .min_args = 1,
      .max_args = 1,
      .run = PushDelete,
  });
}

}  // namespace switchboard::cli
