#include "services/intake/mail_loop.h"

#include <algorithm>
#include <utility>

#include <grpcpp/security/credentials.h>

#include "common/channel.h"
#include "common/logging.h"
#include "common/status.h"
#include "common/sync.h"
#include "services/intake/intake_core.h"
#include "switchboard/intake/v1/partition.grpc.pb.h"

namespace switchboard::intake {
namespace {

class LocalMailPeer final : public MailPeer {
 public:
  explicit LocalMailPeer(IntakeCore& core) : core_(core) {}

  absl::Status Deliver(const v1::DeliverPartitionMessagesRequest& request) override {
    OneShot delivered;
    absl::Status outcome;
    core_.Deliver(request, [&](absl::Status status) {
      outcome = std::move(status);
      delivered.Fire();
    });
    delivered.Wait();
    return outcome;
  }

 private:
  IntakeCore& core_;
};

class GrpcMailPeer final : public MailPeer {
 public:
  GrpcMailPeer(const std::string& target,
               const std::shared_ptr<grpc::ChannelCredentials>& credentials, absl::Duration timeout)
      : stub_(v1::IntakePartitionService::NewStub(MakeServiceChannel(
            target, credentials != nullptr ? credentials : grpc::InsecureChannelCredentials(),
            {v1::IntakePartitionService::service_full_name()}))),
        timeout_(timeout) {}

  absl::Status Deliver(const v1::DeliverPartitionMessagesRequest& request) override {
    grpc::ClientContext context;
    SetTimeout(context, timeout_);
    v1::DeliverPartitionMessagesResponse response;
    return FromGrpcStatus(stub_->DeliverPartitionMessages(&context, request, &response));
  }

 private:
  std::unique_ptr<v1::IntakePartitionService::Stub> stub_;
  const absl::Duration timeout_;
};

}  // namespace

std::unique_ptr<MailPeer> MakeLocalMailPeer(IntakeCore& core) {
  return std::make_unique<LocalMailPeer>(core);
}

std::unique_ptr<MailPeer> MakeGrpcMailPeer(
    const std::string& target, const std::shared_ptr<grpc::ChannelCredentials>& credentials,
    absl::Duration timeout) {
  return std::make_unique<GrpcMailPeer>(target, credentials, timeout);
}

MailLoop::MailLoop(int sender, Outbox& mail, IssueLedger& ledger, MailPeer& peer,
                   IntakeMetrics& metrics, Clock& clock, Options options)
    : sender_(sender),
      mail_(mail),
      ledger_(ledger),
      peer_(peer),
      metrics_(metrics),
      clock_(clock),
      options_(options),
      loop_(mail.name(), clock, mail.doorbell(), options.loop, [this] { return RunOnce(); }) {}

WorkerLoop::Step MailLoop::RunOnce() {
  absl::StatusOr<std::vector<Outbox::Item>> items = mail_.Peek(options_.batch);
  if (!items.ok()) {
    log::Error("cannot read the mail queue", {{"queue", mail_.name()}, {"status", items.status()}});
    return WorkerLoop::Step::Failed();
  }
  if (items->empty()) {
    metrics_.SetBacklog(mail_.name(), 0, absl::ZeroDuration());
    return WorkerLoop::Step::Idle();
  }
  const int64_t size = static_cast<int64_t>(items->size());
  if (size < options_.batch) {
    metrics_.SetBacklog(mail_.name(), size, clock_.Now() - items->front().append_time);
  } else if (absl::StatusOr<Outbox::Backlog> backlog = mail_.Measure(); backlog.ok()) {
    metrics_.SetBacklog(mail_.name(), std::max<int64_t>(backlog->size, size), backlog->oldest_age);
  }

  v1::DeliverPartitionMessagesRequest request;
  request.set_sender(sender_);
  for (const Outbox::Item& item : *items) {
    v1::PartitionMessage* message = request.add_messages();
    if (!message->ParseFromString(item.value)) {
      log::Error("dropping a partition message that does not parse",
                 {{"queue", mail_.name()}, {"sequence", item.sequence}});
      request.mutable_messages()->RemoveLast();
      continue;
    }
    // Ordered only if its sender gave it a run (a sender of the first
    // version did not; such messages are applied every time).
    if (message->run() != 0) message->set_sequence(item.sequence);
  }
  if (!request.messages().empty()) {
    if (absl::Status status = peer_.Deliver(request); !status.ok()) {
      metrics_.CountDispatchFailure("intake", status);
      log::Warning(
          "DeliverPartitionMessages failed; retrying after a backoff",
          {{"queue", mail_.name()}, {"messages", request.messages_size()}, {"status", status}});
      return WorkerLoop::Step::Failed();
    }
  }
  if (absl::Status removed = ledger_.RemovePublished(mail_, *items); !removed.ok()) {
    log::Error("cannot remove delivered mail", {{"queue", mail_.name()}, {"status", removed}});
    return WorkerLoop::Step::Failed();
  }
  mail_.Consumed(items->back().sequence);
  return WorkerLoop::Step::Progress();
}

}  // namespace switchboard::intake
