// switchboard-notification: durable per-subscriber logs of issue events.
#include <memory>

#include "common/rocks.h"
#include "common/server.h"
#include "switchboard/notification/v1/notification.grpc.pb.h"

int main(int argc, char** argv) {
  using namespace switchboard;
  InitProcess(argc, argv, "switchboard-notification",
              "Stores issue events per subscriber and delivers them.\n"
              "Usage: switchboard-notification --grpc_listen=HOST:PORT "
              "--metrics_listen=HOST:PORT --data_dir=DIR");
  auto data_dir = DataDirFromFlags();
  if (!data_dir.ok()) return ExitWithError(data_dir.status());
  auto db = Database::Open({.path = *data_dir});
  if (!db.ok()) return ExitWithError(db.status());

  // The generated base answers every RPC with UNIMPLEMENTED for now.
  notification::v1::NotificationService::CallbackService service;
  auto host =
      ServiceHost::Start(ServerConfigFromFlags(),
                         {{&service, notification::v1::NotificationService::service_full_name()}},
                         std::make_shared<prometheus::Registry>());
  if (!host.ok()) return ExitWithError(host.status());
  return (*host)->RunUntilSignal();
}
