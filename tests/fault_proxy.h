// A TCP proxy on loopback for fault tests: it stands between a client and
// one upstream port and, on command, delays, resets, refuses or black-holes
// the connections through it, as a broken network would.
//
//   auto proxy = FaultProxy::Start(upstream_port);
//   (*proxy)->SetMode(FaultProxy::Mode::kBlackHole);  // packets vanish
//   ...
//   (*proxy)->SetMode(FaultProxy::Mode::kPass);       // the link heals
//
// One thread, poll(2), bounded buffers; the destructor closes everything.
#ifndef SWITCHBOARD_TESTS_FAULT_PROXY_H_
#define SWITCHBOARD_TESTS_FAULT_PROXY_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/sync.h"

namespace switchboard::testing {

class FaultProxy {
 public:
  enum class Mode {
    // Forward both ways (after the delay, if one is set).
    kPass,
    // Accept and keep connections, forward nothing either way: the peer
    // neither answers nor closes, as a cable pulled or a firewall dropping.
    // Leaving it resets the connections it held: their bytes are lost.
    kBlackHole,
    // Reset every connection open now (RST), then pass again.
    kResetAll,
    // Accept new connections and reset them at once; open ones keep going.
    kRefuse,
  };

  // Listens on a free loopback port; forwards to 127.0.0.1:upstream_port.
  static absl::StatusOr<std::unique_ptr<FaultProxy>> Start(int upstream_port);

  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  int port() const { return port_; }

  void SetMode(Mode mode);
  // Each chunk is forwarded this long after it arrived (kPass only).
  void SetDelay(absl::Duration delay);

  // Connections accepted so far, and of them those the client was seen to
  // close (in a black hole a client's FIN may wait behind bytes the proxy
  // does not read, as on a dead link: a new connection is the sign then).
  int64_t accepted() const { return accepted_.load(); }
  int64_t closed_by_client() const { return closed_by_client_.load(); }
  // Bytes forwarded either way so far (a link with none is idle).
  int64_t forwarded_bytes() const { return forwarded_bytes_.load(); }

 private:
  FaultProxy(int listen_fd, int port, int upstream_port);
  void Run();

  const int listen_fd_;
  const int port_;
  const int upstream_port_;
  int wake_fds_[2] = {-1, -1};
  std::atomic<bool> stopping_{false};
  std::atomic<int> mode_{static_cast<int>(Mode::kPass)};
  std::atomic<int64_t> delay_us_{0};
  std::atomic<int64_t> accepted_{0};
  std::atomic<int64_t> closed_by_client_{0};
  std::atomic<int64_t> forwarded_bytes_{0};
  std::thread thread_;
};

}  // namespace switchboard::testing

#endif  // SWITCHBOARD_TESTS_FAULT_PROXY_H_
