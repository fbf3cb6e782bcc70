// floor: the kernel's share of the media benchmark, measured alone.
//
// A stand-in for the engine that does no media work at all: one UDP socket
// per leg on 127.0.0.1, a 20 ms periodic timer, and on each tick exactly one
// read and one write per leg: it reads one packet from every socket and
// sends each leg one 20 ms PCMU packet back (its own audio, or µ-law silence
// when nothing came). That is the fewest system-call operations that can
// carry the benchmark's load, through the engine's own batched I/O
// (native/src/batch_io.cc: io_uring, fixed files), with no epoll, no jitter
// buffer, no mixing, no RTCP. Its CPU per leg-second is what the packets
// cost on this machine before any of the engine's own work: the floor under
// the engine's figure. bench/run.ts --floor runs it against the same load
// generator (bench/rtpload.cc) and prints it beside the engine's rows.
//
// --sockets one: the same, but all legs share one socket (one port), read
// with recvmmsg and written with sendmmsg, 256 datagrams a call: what the
// packets would cost if the bridge gave up a port per leg (it does not:
// symmetric RTP, NAT latching and per-leg flood isolation need one). It
// shows how much of the floor is per-socket and how much per-packet.
//
// Protocol with the driver (stdin/stdout lines):
//   <- one stdin line: N generator ports (the legs' remotes)
//   -> {"event":"ready","ports":[...]}     the legs' local ports
//   runs until stdin closes or SIGTERM.
// The driver reads this process's CPU from /proc/<pid>/task/*/schedstat.
//
// Build (bench/run.ts does it on demand):
//   g++ -std=c++17 -O2 -Wall -Wextra -Inative/src -o floor bench/floor.cc native/src/batch_io.cc native/src/rtp.cc

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "batch_io.h"
#include "rtp.h"

namespace {

constexpr int kFrameSamples = 160;
constexpr size_t kRtpHeader = 12;
constexpr size_t kPacket = kRtpHeader + kFrameSamples;
constexpr uint8_t kMulawSilence = 0xFF;
constexpr uint8_t kPcmuPayloadType = 0;
constexpr long kFrameNs = 20'000'000;

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "floor: %s\n", msg.c_str());
  std::exit(2);
}

struct Leg {
  int fd = -1;
  sockaddr_in remote{};
  uint16_t seq = 0;
  uint32_t timestamp = 0;
  uint32_t ssrc = 0;
  // One receive and one send buffer, each with its header.
  uint8_t in[1536];
  uint8_t out[kPacket];
  iovec inIov{}, outIov{};
  msghdr inMsg{}, outMsg{};
};

// Binds the next free even port at or above `port` (the odd one above stays
// free, as the engine's RTCP port would be); `port` moves past it.
int bindEven(int& port, int portMax, int& bound) {
  for (; port + 1 <= portMax; port += 2) {
    const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) die(std::string("socket: ") + std::strerror(errno));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0) {
      bound = port;
      port += 2;
      return fd;
    }
    ::close(fd);
  }
  die("no free even port left in the range");
}

sockaddr_in loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

// A 20 ms timer; tick() waits for the next expiration, false once the
// driver has closed stdin.
class Ticker {
 public:
  Ticker() {
    fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    if (fd_ < 0) die(std::string("timerfd: ") + std::strerror(errno));
    itimerspec spec{};
    spec.it_interval.tv_nsec = kFrameNs;
    spec.it_value.tv_nsec = kFrameNs;
    timerfd_settime(fd_, 0, &spec, nullptr);
  }
  bool tick() {
    for (;;) {
      pollfd fds[2] = {{fd_, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
      if (poll(fds, 2, -1) < 0 && errno != EINTR) die(std::string("poll: ") + std::strerror(errno));
      if (fds[1].revents != 0) return false;
      uint64_t expirations = 0;
      if ((fds[0].revents & POLLIN) != 0 && ::read(fd_, &expirations, sizeof expirations) == sizeof expirations) return true;
    }
  }

 private:
  int fd_ = -1;
};

void announce(const std::vector<int>& ports) {
  std::string ready = "{\"event\":\"ready\",\"ports\":[";
  for (size_t i = 0; i < ports.size(); i++) ready += (i ? "," : "") + std::to_string(ports[i]);
  std::printf("%s]}\n", ready.c_str());
  std::fflush(stdout);
}

// A socket per leg, through the engine's BatchIo.
void runPerLegSockets(const std::vector<int>& remotes, int portMin, int portMax) {
  const size_t n = remotes.size();
  std::unique_ptr<Leg[]> legs(new Leg[n]);
  media::BatchIo io(true);
  io.bindToThisThread();
  int port = portMin + (portMin & 1);
  std::vector<int> ports;
  for (size_t i = 0; i < n; i++) {
    Leg& l = legs[i];
    int local = 0;
    l.fd = bindEven(port, portMax, local);
    ports.push_back(local);
    io.registerFile(l.fd);
    l.remote = loopback(remotes[i]);
    l.ssrc = 0x464c0000u + static_cast<uint32_t>(i);
    l.inIov = {l.in, sizeof l.in};
    l.inMsg.msg_iov = &l.inIov;
    l.inMsg.msg_iovlen = 1;
    l.outIov = {l.out, kPacket};
    l.outMsg.msg_iov = &l.outIov;
    l.outMsg.msg_iovlen = 1;
    l.outMsg.msg_name = &l.remote;
    l.outMsg.msg_namelen = sizeof l.remote;
  }
  announce(ports);
  std::fprintf(stderr, "floor: %zu legs, a socket each, I/O through %s%s%s\n", n, io.backendName(),
               *io.fallbackReason() ? ": " : "", io.fallbackReason());

  Ticker ticker;
  while (ticker.tick()) {
    // One read per leg.
    for (size_t first = 0; first < n; first += media::BatchIo::kMaxOps) {
      const size_t end = std::min(n, first + media::BatchIo::kMaxOps);
      for (size_t i = first; i < end; i++) io.queueRecv(legs[i].fd, &legs[i].inMsg);
      io.flush();
      for (size_t i = first; i < end; i++) {
        Leg& l = legs[i];
        // Its own audio back when a whole PCMU frame came, else silence.
        if (io.result(static_cast<unsigned>(i - first)) == static_cast<int>(kPacket)) {
          std::memcpy(l.out + kRtpHeader, l.in + kRtpHeader, kFrameSamples);
        } else {
          std::memset(l.out + kRtpHeader, kMulawSilence, kFrameSamples);
        }
      }
    }
    // One write per leg.
    for (size_t first = 0; first < n; first += media::BatchIo::kMaxOps) {
      const size_t end = std::min(n, first + media::BatchIo::kMaxOps);
      for (size_t i = first; i < end; i++) {
        Leg& l = legs[i];
        media::writeRtpHeader(l.out, false, kPcmuPayloadType, l.seq++, l.timestamp, l.ssrc);
        l.timestamp += kFrameSamples;
        io.queueSend(l.fd, &l.outMsg);
      }
      io.flush();
    }
  }
}

// All legs on one socket: recvmmsg until it runs dry, then sendmmsg.
void runOneSocket(const std::vector<int>& remotes, int portMin, int portMax) {
  constexpr size_t kBatch = 256;
  const size_t n = remotes.size();
  int port = portMin + (portMin & 1);
  int local = 0;
  const int fd = bindEven(port, portMax, local);
  // Room for a whole tick of every leg's packets in each direction.
  const int bytes = static_cast<int>(std::min<size_t>(64u << 20, n * 4096));
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
  announce(std::vector<int>(n, local));
  std::fprintf(stderr, "floor: %zu legs on one socket, recvmmsg/sendmmsg\n", n);

  std::vector<sockaddr_in> remote(n);
  for (size_t i = 0; i < n; i++) remote[i] = loopback(remotes[i]);
  std::unique_ptr<uint8_t[]> in(new uint8_t[kBatch * 1536]);
  std::unique_ptr<uint8_t[]> out(new uint8_t[n * kPacket]);
  std::memset(out.get(), kMulawSilence, n * kPacket);
  std::vector<mmsghdr> msgs(kBatch);
  std::vector<iovec> iov(kBatch);
  std::vector<sockaddr_in> from(kBatch);
  uint16_t seq = 0;
  uint32_t timestamp = 0;

  Ticker ticker;
  while (ticker.tick()) {
    for (;;) {
      for (size_t i = 0; i < kBatch; i++) {
        iov[i] = {in.get() + i * 1536, 1536};
        msgs[i] = mmsghdr{};
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_name = &from[i];
        msgs[i].msg_hdr.msg_namelen = sizeof from[i];
      }
      if (recvmmsg(fd, msgs.data(), kBatch, MSG_DONTWAIT, nullptr) < static_cast<int>(kBatch)) break;
    }
    for (size_t first = 0; first < n; first += kBatch) {
      const size_t end = std::min(n, first + kBatch);
      for (size_t i = first; i < end; i++) {
        uint8_t* packet = out.get() + i * kPacket;
        media::writeRtpHeader(packet, false, kPcmuPayloadType, seq, timestamp, 0x464c0000u + static_cast<uint32_t>(i));
        const size_t k = i - first;
        iov[k] = {packet, kPacket};
        msgs[k] = mmsghdr{};
        msgs[k].msg_hdr.msg_iov = &iov[k];
        msgs[k].msg_hdr.msg_iovlen = 1;
        msgs[k].msg_hdr.msg_name = &remote[i];
        msgs[k].msg_hdr.msg_namelen = sizeof remote[i];
      }
      sendmmsg(fd, msgs.data(), static_cast<unsigned>(end - first), MSG_DONTWAIT);
    }
    seq++;
    timestamp += kFrameSamples;
  }
}

}  // namespace

int main(int argc, char** argv) {
  int portMin = 50000;
  int portMax = 55999;
  bool oneSocket = false;
  for (int i = 1; i < argc; i++) {
    const std::string a = argv[i];
    if (i + 1 >= argc) die("missing value for " + a);
    const std::string v = argv[++i];
    if (a == "--port-min") portMin = std::atoi(v.c_str());
    else if (a == "--port-max") portMax = std::atoi(v.c_str());
    else if (a == "--sockets" && (v == "per-leg" || v == "one")) oneSocket = v == "one";
    else die("unknown flag or value: " + a + " " + v + " (--port-min P --port-max P --sockets per-leg|one)");
  }
  if (portMin < 1024 || portMax > 65535 || portMin >= portMax) die("--port-min/--port-max: 1024 <= min < max <= 65535");

  std::string line;
  if (!std::getline(std::cin, line)) die("no generator ports on stdin");
  std::vector<int> remotes;
  std::istringstream in(line);
  int p = 0;
  while (in >> p) {
    if (p <= 0 || p > 65535) die("bad generator port " + std::to_string(p));
    remotes.push_back(p);
  }
  if (remotes.empty()) die("no generator ports on stdin");
  if (oneSocket) runOneSocket(remotes, portMin, portMax);
  else runPerLegSockets(remotes, portMin, portMax);
  return 0;
}
