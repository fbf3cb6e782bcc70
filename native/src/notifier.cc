#include "notifier.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

namespace media {

Notifier::Notifier(std::vector<int> fds, std::function<void()> wake)
    : fds_(std::move(fds)), wake_(std::move(wake)) {
  stopFd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (stopFd_ < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
  thread_ = std::thread([this] { run(); });
}

Notifier::~Notifier() {
  stop();
  ::close(stopFd_);
}

void Notifier::stop() {
  if (!thread_.joinable()) return;
  const uint64_t one = 1;
  ssize_t r = ::write(stopFd_, &one, sizeof one);
  (void)r;
  thread_.join();
}

void Notifier::run() {
  std::vector<pollfd> pfds(fds_.size() + 1);
  pfds[0].fd = stopFd_;
  pfds[0].events = POLLIN;
  for (size_t i = 0; i < fds_.size(); i++) {
    pfds[i + 1].fd = fds_[i];
    pfds[i + 1].events = POLLIN;
  }
  for (;;) {
    const int n = ::poll(pfds.data(), pfds.size(), -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (pfds[0].revents != 0) return;
    bool any = false;
    for (size_t i = 1; i < pfds.size(); i++) {
      if (pfds[i].revents & POLLIN) {
        uint64_t v;
        ssize_t r = ::read(pfds[i].fd, &v, sizeof v);
        (void)r;
        any = true;
      }
    }
    if (any) wake_();
  }
}

}  // namespace media
