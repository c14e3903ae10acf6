#include "tests/fault_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace switchboard::testing {
namespace {

constexpr size_t kMaxBuffered = size_t{4} << 20;  // per direction

struct Chunk {
  absl::Time due;
  std::string bytes;
  size_t sent = 0;
};

struct Link {
  int client = -1;
  int upstream = -1;
  std::deque<Chunk> to_upstream;
  std::deque<Chunk> to_client;
  size_t buffered_to_upstream = 0;
  size_t buffered_to_client = 0;
  bool done = false;
};

void SetNonBlocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

// Closes with RST rather than FIN.
void Reset(int fd) {
  if (fd < 0) return;
  const linger abort{.l_onoff = 1, .l_linger = 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
  close(fd);
}

int ConnectLoopback(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    close(fd);
    return -1;
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  SetNonBlocking(fd);
  return fd;
}

// Reads what `from` has into `queue`, due after `delay`. False when `from`
// closed or failed.
bool ReadInto(int from, std::deque<Chunk>& queue, size_t& buffered, absl::Duration delay) {
  char buffer[65536];
  const ssize_t got = recv(from, buffer, sizeof buffer, MSG_DONTWAIT);
  if (got == 0) return false;
  if (got < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
  queue.push_back({absl::Now() + delay, std::string(buffer, static_cast<size_t>(got))});
  buffered += static_cast<size_t>(got);
  return true;
}

// Writes the due chunks of `queue` to `to`, counting them in `forwarded`.
// False when `to` failed.
bool WriteFrom(int to, std::deque<Chunk>& queue, size_t& buffered,
               std::atomic<int64_t>& forwarded) {
  const absl::Time now = absl::Now();
  while (!queue.empty() && queue.front().due <= now) {
    Chunk& chunk = queue.front();
    const ssize_t sent = send(to, chunk.bytes.data() + chunk.sent, chunk.bytes.size() - chunk.sent,
                              MSG_DONTWAIT | MSG_NOSIGNAL);
    if (sent < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    chunk.sent += static_cast<size_t>(sent);
    buffered -= static_cast<size_t>(sent);
    forwarded += sent;
    if (chunk.sent < chunk.bytes.size()) return true;
    queue.pop_front();
  }
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<FaultProxy>> FaultProxy::Start(int upstream_port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = 0;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || listen(fd, 64) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    close(fd);
    return absl::InternalError(absl::StrCat("listen: ", std::strerror(errno)));
  }
  SetNonBlocking(fd);
  auto proxy = absl::WrapUnique(new FaultProxy(fd, ntohs(address.sin_port), upstream_port));
  if (pipe2(proxy->wake_fds_, O_CLOEXEC | O_NONBLOCK) != 0) {
    return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  }
  proxy->thread_ = std::thread([raw = proxy.get()] { raw->Run(); });
  return proxy;
}

FaultProxy::FaultProxy(int listen_fd, int port, int upstream_port)
    : listen_fd_(listen_fd), port_(port), upstream_port_(upstream_port) {}

FaultProxy::~FaultProxy() {
  stopping_ = true;
  if (wake_fds_[1] >= 0) (void)!write(wake_fds_[1], "x", 1);
  if (thread_.joinable()) thread_.join();
  close(listen_fd_);
  for (int fd : wake_fds_) {
    if (fd >= 0) close(fd);
  }
}

void FaultProxy::SetMode(Mode mode) {
  mode_ = static_cast<int>(mode);
  (void)!write(wake_fds_[1], "x", 1);
}

void FaultProxy::SetDelay(absl::Duration delay) {
  delay_us_ = absl::ToInt64Microseconds(delay);
  (void)!write(wake_fds_[1], "x", 1);
}

void FaultProxy::Run() {
  std::vector<Link> links;
  std::vector<pollfd> fds;
  bool black_holed = false;
  while (!stopping_) {
    Mode mode = static_cast<Mode>(mode_.load());
    if (mode == Mode::kResetAll) {
      for (Link& link : links) {
        Reset(link.client);
        Reset(link.upstream);
      }
      links.clear();
      int expected = static_cast<int>(Mode::kResetAll);
      mode_.compare_exchange_strong(expected, static_cast<int>(Mode::kPass));
      mode = Mode::kPass;
    }
    const bool forwarding = mode != Mode::kBlackHole;
    if (forwarding && black_holed) {
      // What went into the hole is lost, and both ends will have given up
      // on the connections it held: end them rather than deliver stale bytes.
      for (Link& link : links) {
        Reset(link.client);
        Reset(link.upstream);
      }
      links.clear();
    }
    black_holed = !forwarding;
    const absl::Duration delay = absl::Microseconds(delay_us_.load());

    fds.clear();
    fds.push_back({listen_fd_, POLLIN, 0});
    fds.push_back({wake_fds_[0], POLLIN, 0});
    absl::Time next_due = absl::Now() + absl::Milliseconds(50);
    for (const Link& link : links) {
      // A black hole reads nothing and writes nothing, but notices a close.
      short client_events = POLLRDHUP;
      short upstream_events = POLLRDHUP;
      if (forwarding) {
        if (link.buffered_to_upstream < kMaxBuffered) client_events |= POLLIN;
        if (link.buffered_to_client < kMaxBuffered) upstream_events |= POLLIN;
        if (!link.to_client.empty()) {
          next_due = std::min(next_due, link.to_client.front().due);
          if (link.to_client.front().due <= absl::Now()) client_events |= POLLOUT;
        }
        if (!link.to_upstream.empty()) {
          next_due = std::min(next_due, link.to_upstream.front().due);
          if (link.to_upstream.front().due <= absl::Now()) upstream_events |= POLLOUT;
        }
      }
      fds.push_back({link.client, client_events, 0});
      fds.push_back({link.upstream, upstream_events, 0});
    }
    const int timeout_ms = static_cast<int>(
        std::clamp<int64_t>(absl::ToInt64Milliseconds(next_due - absl::Now()), 0, 50));
    if (poll(fds.data(), fds.size(), timeout_ms) < 0 && errno != EINTR) return;

    if (fds[1].revents & POLLIN) {
      char drain[64];
      while (read(wake_fds_[0], drain, sizeof drain) > 0) {
      }
    }
    for (size_t i = 0; i < links.size(); ++i) {
      Link& link = links[i];
      const pollfd& client = fds[2 + 2 * i];
      const pollfd& upstream = fds[3 + 2 * i];
      if (!forwarding) {
        if (client.revents & (POLLRDHUP | POLLHUP | POLLERR)) {
          ++closed_by_client_;
          link.done = true;
        } else if (upstream.revents & (POLLRDHUP | POLLHUP | POLLERR)) {
          link.done = true;
        }
        continue;
      }
      if (client.revents & (POLLIN | POLLRDHUP | POLLHUP | POLLERR)) {
        if (!ReadInto(link.client, link.to_upstream, link.buffered_to_upstream, delay)) {
          ++closed_by_client_;
          link.done = true;
        }
      }
      if (!link.done && (upstream.revents & (POLLIN | POLLRDHUP | POLLHUP | POLLERR))) {
        if (!ReadInto(link.upstream, link.to_client, link.buffered_to_client, delay)) {
          link.done = true;
        }
      }
      if (!link.done &&
          (!WriteFrom(link.upstream, link.to_upstream, link.buffered_to_upstream,
                      forwarded_bytes_) ||
           !WriteFrom(link.client, link.to_client, link.buffered_to_client, forwarded_bytes_))) {
        link.done = true;
      }
    }
    // A link ends whole: what one side sent after the other closed is lost,
    // as on a real network.
    for (Link& link : links) {
      if (link.done) {
        close(link.client);
        close(link.upstream);
      }
    }
    std::erase_if(links, [](const Link& link) { return link.done; });

    if (fds[0].revents & POLLIN) {
      for (;;) {
        const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) break;
        ++accepted_;
        if (static_cast<Mode>(mode_.load()) == Mode::kRefuse) {
          Reset(fd);
          continue;
        }
        const int upstream = ConnectLoopback(upstream_port_);
        if (upstream < 0) {
          Reset(fd);
          continue;
        }
        const int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        SetNonBlocking(fd);
        links.push_back({.client = fd, .upstream = upstream});
      }
    }
  }
  for (Link& link : links) {
    close(link.client);
    close(link.upstream);
  }
}

}  // namespace switchboard::testing
