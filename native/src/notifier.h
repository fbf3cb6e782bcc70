// One thread that waits on the workers' event eventfds and calls `wake` (the
// addon makes that a thread-safe-function call). It never touches the event
// rings itself; the JS thread drains them.
#pragma once

#include <functional>
#include <thread>
#include <vector>

namespace media {

class Notifier {
 public:
  Notifier(std::vector<int> fds, std::function<void()> wake);  // throws
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;
  void stop();  // joins

 private:
  void run();
  std::vector<int> fds_;
  std::function<void()> wake_;
  int stopFd_ = -1;
  std::thread thread_;
};

}  // namespace media
