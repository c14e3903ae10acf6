// Stream fan-out throughput of the notification service, against the same
// server streaming empty messages, alternating A B A B in one run.
//
// Fan-out (A): S subscribers each hold a Subscribe stream while a publisher
// sends E events, in Publish batches, each addressed to all S; the figure is
// notifications received per second over all streams, from the first
// Publish to the last notification read. Every notification is durable
// (fsync) before it is streamed, and each stream checks that it reads
// sequences 1..E in order.
//
// Baseline (B): the same server, S streams each reading E empty messages
// from BaselineStream.Stream: what gRPC streaming alone costs here.
//
//   build/bin/notification_fanout_bench --subscribers=16 --events=4000 --pairs=3
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bench/fanout_baseline.grpc.pb.h"
#include "services/notification/testing/harness.h"

ABSL_FLAG(int, subscribers, 16, "concurrent Subscribe streams");
ABSL_FLAG(int, events, 4000, "events published per run, each to every subscriber");
ABSL_FLAG(int, batch, 50, "events per Publish call");
ABSL_FLAG(int, pairs, 3, "alternating fan-out / baseline pairs");
ABSL_FLAG(int, payload_bytes, 1024, "size of each event's issue description");

namespace switchboard::bench {
namespace {

namespace nv1 = notification::v1;

// Streams `count` empty Notifications.
class BaselineStreamImpl final : public BaselineStream::CallbackService {
 public:
  grpc::ServerWriteReactor<nv1::Notification>* Stream(grpc::CallbackServerContext* context,
                                                      const StreamRequest* request) override {
    class Writer final : public grpc::ServerWriteReactor<nv1::Notification> {
     public:
      explicit Writer(int64_t count) : left_(count) { Next(); }
      void OnWriteDone(bool ok) override {
        if (!ok) {
          Finish(grpc::Status::CANCELLED);
          return;
        }
        Next();
      }
      void OnDone() override { delete this; }

     private:
      void Next() {
        if (left_-- <= 0) {
          Finish(grpc::Status::OK);
          return;
        }
        StartWrite(&empty_);
      }
      int64_t left_;
      nv1::Notification empty_;
    };
    return new Writer(request->count());
  }
};

struct Run {
  double per_second = 0;
  bool ok = true;
};

// A channel with a connection of its own: gRPC shares a connection among
// channels with equal arguments, so each gets a distinct (unused) one. Both
// modes use one connection per stream.
std::shared_ptr<grpc::Channel> Connect(int port) {
  static std::atomic<int> connections{0};
  grpc::ChannelArguments args;
  args.SetInt("switchboard.bench.connection", connections++);
  return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port),
                                   grpc::InsecureChannelCredentials(), args);
}

Run FanOut(notification::testing::NotificationHarness& harness, int round) {
  const int subscribers = absl::GetFlag(FLAGS_subscribers);
  const int events = absl::GetFlag(FLAGS_events);
  const int batch = absl::GetFlag(FLAGS_batch);
  const std::string payload(static_cast<size_t>(absl::GetFlag(FLAGS_payload_bytes)), 'x');
  std::vector<std::string> names;
  for (int s = 0; s < subscribers; ++s) names.push_back(absl::StrCat("teams/r", round, "-s", s));

  std::atomic<bool> ok{true};
  std::atomic<int> open{0};
  std::vector<std::thread> readers;
  for (const std::string& name : names) {
    readers.emplace_back([&, name] {
      auto stub = nv1::NotificationService::NewStub(Connect(harness.port()));
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Minutes(10)));
      nv1::SubscribeRequest request;
      request.set_subscriber(name);
      auto reader = stub->Subscribe(&context, request);
      ++open;
      nv1::Notification notification;
      uint64_t expected = 1;
      while (expected <= static_cast<uint64_t>(events) && reader->Read(&notification)) {
        if (notification.sequence() != expected++) ok = false;
      }
      if (expected != static_cast<uint64_t>(events) + 1) ok = false;
      context.TryCancel();
    });
  }
  while (open < subscribers) absl::SleepFor(absl::Milliseconds(1));
  absl::SleepFor(absl::Milliseconds(50));  // let the streams reach the server

  const absl::Time start = absl::Now();
  auto publisher = nv1::NotificationService::NewStub(harness.channel());
  for (int first = 0; first < events; first += batch) {
    nv1::PublishRequest request;
    for (int i = first; i < std::min(events, first + batch); ++i) {
      issue::v1::IssueEvent* event = request.add_events();
      event->set_id(absl::StrCat("r", round, "-e", i));
      event->set_type(issue::v1::EVENT_TYPE_ROUTED);
      event->mutable_issue()->set_title("Checkout fails for EU customers");
      event->mutable_issue()->set_description(payload);
      for (const std::string& name : names) event->add_recipients(name);
    }
    grpc::ClientContext context;
    nv1::PublishResponse response;
    const grpc::Status status = publisher->Publish(&context, request, &response);
    if (!status.ok()) {
      std::fprintf(stderr, "Publish failed: %s\n", status.error_message().c_str());
      ok = false;
    }
  }
  for (std::thread& reader : readers) reader.join();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  return {.per_second = static_cast<double>(events) * subscribers / seconds, .ok = ok};
}

Run Baseline(int port) {
  const int subscribers = absl::GetFlag(FLAGS_subscribers);
  const int events = absl::GetFlag(FLAGS_events);
  std::atomic<bool> ok{true};
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int s = 0; s < subscribers; ++s) channels.push_back(Connect(port));
  const absl::Time start = absl::Now();
  std::vector<std::thread> readers;
  for (int s = 0; s < subscribers; ++s) {
    readers.emplace_back([&, s] {
      auto stub = BaselineStream::NewStub(channels[static_cast<size_t>(s)]);
      grpc::ClientContext context;
      StreamRequest request;
      request.set_count(events);
      auto reader = stub->Stream(&context, request);
      nv1::Notification notification;
      int read = 0;
      while (reader->Read(&notification)) ++read;
      if (read != events || !reader->Finish().ok()) ok = false;
    });
  }
  for (std::thread& reader : readers) reader.join();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  return {.per_second = static_cast<double>(events) * subscribers / seconds, .ok = ok};
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

int Main() {
  BaselineStreamImpl baseline;
  notification::testing::NotificationHarness harness(
      {.extra_services = {{&baseline, BaselineStream::service_full_name()}}});
  if (absl::Status started = harness.Start(); !started.ok()) {
    std::fprintf(stderr, "cannot start: %s\n", started.ToString().c_str());
    return 1;
  }
  std::printf("subscribers=%d events=%d batch=%d payload=%dB\n", absl::GetFlag(FLAGS_subscribers),
              absl::GetFlag(FLAGS_events), absl::GetFlag(FLAGS_batch),
              absl::GetFlag(FLAGS_payload_bytes));
  // Warm-up of both paths.
  FanOut(harness, -1);
  Baseline(harness.port());
  std::printf("| pair | fan-out (notifications/s) | empty stream (messages/s) | ratio |\n");
  std::printf("|---:|---:|---:|---:|\n");
  std::vector<double> ratios;
  bool ok = true;
  for (int pair = 0; pair < absl::GetFlag(FLAGS_pairs); ++pair) {
    const Run fan_out = FanOut(harness, pair);
    const Run empty = Baseline(harness.port());
    ok = ok && fan_out.ok && empty.ok;
    ratios.push_back(fan_out.per_second / empty.per_second);
    std::printf("| %d | %.0f | %.0f | %.2f |\n", pair + 1, fan_out.per_second, empty.per_second,
                ratios.back());
    std::fflush(stdout);
  }
  const auto [low, high] = std::minmax_element(ratios.begin(), ratios.end());
  std::printf("median ratio %.2f (spread %.2f–%.2f)%s\n", Median(ratios), *low, *high,
              ok ? "" : "  [ERRORS: a stream missed or reordered notifications]");
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace switchboard::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return switchboard::bench::Main();
}
