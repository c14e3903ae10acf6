// The mail loop: takes messages for one intake partition from this
// partition's outbox for it (mail_{d}, written in the batch of the change
// that caused them) in order, in batches, delivers them
// (DeliverPartitionMessages, or in-process to this partition itself), and
// then removes them through the IssueLedger. Every message is applied
// idempotently where it lands, so one delivered again after a crash or a
// lost reply changes nothing: at least once becomes exactly once. One loop
// per destination, so a partition that is down holds up only its own mail.
//
//   mail_d ──▶ MailLoop ──Deliver──▶ intake partition d (IntakeCore::Deliver)
//                └──RemovePublished──▶ IssueLedger (IntakeCore)
#ifndef SWITCHBOARD_SERVICES_INTAKE_MAIL_LOOP_H_
#define SWITCHBOARD_SERVICES_INTAKE_MAIL_LOOP_H_

#include <memory>
#include <string>

#include <grpcpp/security/credentials.h>

#include "absl/status/status.h"
#include "common/clock.h"
#include "common/outbox.h"
#include "common/worker_loop.h"
#include "services/intake/intake_metrics.h"
#include "services/intake/issue_ledger.h"
#include "switchboard/intake/v1/partition.pb.h"

namespace switchboard::intake {

class IntakeCore;

// Where one partition's mail goes.
class MailPeer {
 public:
  virtual ~MailPeer() = default;

  // Blocking, for the mail loop's thread: OK once the messages' effects are
  // durable at the destination.
  virtual absl::Status Deliver(const v1::DeliverPartitionMessagesRequest& request) = 0;
};

// This partition itself, in-process.
std::unique_ptr<MailPeer> MakeLocalMailPeer(IntakeCore& core);
// Another partition over gRPC, each call with `timeout`.
std::unique_ptr<MailPeer> MakeGrpcMailPeer(
    const std::string& target, const std::shared_ptr<grpc::ChannelCredentials>& credentials,
    absl::Duration timeout);

class MailLoop {
 public:
  struct Options {
    int batch = 200;  // messages per delivery
    WorkerLoop::Options loop;
  };

  // `sender` is this partition; `mail` its outbox for the destination.
  MailLoop(int sender, Outbox& mail, IssueLedger& ledger, MailPeer& peer, IntakeMetrics& metrics,
           Clock& clock, Options options);

  void Start() { loop_.Start(); }
  void Stop() { loop_.Stop(); }

  // One step on the caller's thread: delivers the next batch.
  WorkerLoop::Step RunOnce();

 private:
  const int sender_;
  Outbox& mail_;
  IssueLedger& ledger_;
  MailPeer& peer_;
  IntakeMetrics& metrics_;
  Clock& clock_;
  const Options options_;
  WorkerLoop loop_;
};

}  // namespace switchboard::intake

#endif  // SWITCHBOARD_SERVICES_INTAKE_MAIL_LOOP_H_
