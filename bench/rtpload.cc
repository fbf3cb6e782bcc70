// rtpload: native RTP load generator for the media benchmark (bench/run.ts).
//
// Plays N phones on 127.0.0.1, one UDP socket each, no SIP. Every phone
// sends a 20 ms PCMU packet on an absolute CLOCK_MONOTONIC schedule and
// receives what the server sends back. Phones come in meetings of R
// (--room-size; default: one meeting of all N): phone i is in meeting i/R,
// and the first T of each meeting are its talkers, talker j at phase
// j*20/T ms; the other phones are spread evenly over the 20 ms frame. The
// talkers take turns sending tone bursts (talker j: cosine of 500+250*j Hz,
// 40 ms every T*period); between bursts, and on every other phone, µ-law
// silence
// (--listeners none: listeners send nothing at all).
//
// Protocol with the driver (one JSON object per stdout line):
//   -> {"event":"bound","ports":[...]}        sockets bound (the legs' remotes)
//   <- one stdin line: N server ports          each socket connect()s to one
//   -> {"event":"window-start"}                measurement window opens
//   -> {"event":"window-end"}                  and closes (after --seconds)
//   -> {"event":"report",...}                  after a 500 ms tail; exits 0
//
// Measured (receive times are kernel timestamps, SO_TIMESTAMPNS, so the
// generator's own scheduling delay does not pollute them):
//   - frames per leg in the window vs expected (seconds*50), sequence gaps;
//   - arrival jitter: |inter-arrival - 20 ms| between consecutive packets;
//   - added latency: for each burst onset, (arrival time of the first frame
//     a listener receives containing the tone + the onset's offset in that
//     frame at 8 kHz) - (time the talker sent its first tone frame). The tone
//     frequency identifies the talker, so latencies up to T*period are
//     unambiguous;
//   - the generator's own health: send lateness vs schedule, late sends
//     (> 20 ms, a whole frame, behind), send errors, receive lag, its CPU.
//
// Build: g++ -std=c++17 -O2 -Wall -Wextra -o rtpload rtpload.cc

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

constexpr int kFrameSamples = 160;
constexpr int64_t kFrameNs = 20'000'000;
constexpr int kThreshold = 1000;        // |sample| above which a tone is "present"
constexpr int kRearmSamples = 80;       // 10 ms of quiet before the next onset
constexpr int kIdSamples = 160;         // samples after an onset used to identify the talker
constexpr int64_t kLateSendNs = 20'000'000;  // a whole frame: the phone missed its slot

struct Options {
  int legs = 0;
  int talkers = 3;
  int roomSize = 0;  // legs per meeting; 0: one meeting of all
  int warmupMs = 2000;
  int seconds = 10;
  int portMin = 56000;
  int portMax = 60999;
  int periodMs = 100;
  int burstMs = 40;
  bool listenersSend = true;
};

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "rtpload: %s\n", msg.c_str());
  std::exit(2);
}

int64_t nowNs(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

timespec toTimespec(int64_t ns) {
  timespec ts;
  ts.tv_sec = ns / 1'000'000'000;
  ts.tv_nsec = ns % 1'000'000'000;
  return ts;
}

int64_t cpuNs() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  auto tv = [](const timeval& t) { return static_cast<int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_usec * 1000; };
  return tv(ru.ru_utime) + tv(ru.ru_stime);
}

// /proc/stat first line: busy and total jiffies of the whole machine.
bool machineJiffies(uint64_t& busy, uint64_t& total) {
  FILE* f = std::fopen("/proc/stat", "r");
  if (f == nullptr) return false;
  unsigned long long v[10] = {0};
  const int n = std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                            &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]);
  std::fclose(f);
  if (n < 5) return false;
  total = 0;
  for (int i = 0; i < 8; i++) total += v[i];  // guest time is already in user
  busy = total - v[3] - v[4];                 // minus idle and iowait
  return true;
}

// Fixed-width histogram with an overflow bucket.
class Histogram {
 public:
  Histogram(int64_t bucketNs, size_t buckets) : bucketNs_(bucketNs), counts_(buckets + 1, 0) {}
  void add(int64_t ns) {
    if (ns < 0) ns = 0;
    size_t i = static_cast<size_t>(ns / bucketNs_);
    if (i >= counts_.size() - 1) i = counts_.size() - 1;
    counts_[i]++;
    n_++;
    if (ns > max_) max_ = ns;
  }
  uint64_t count() const { return n_; }
  // Upper edge of the bucket holding the p-quantile, in µs; -1 when empty.
  double percentileUs(double p) const {
    if (n_ == 0) return -1;
    const uint64_t rank = static_cast<uint64_t>(std::ceil(p * static_cast<double>(n_)));
    uint64_t seen = 0;
    for (size_t i = 0; i < counts_.size(); i++) {
      seen += counts_[i];
      if (seen >= rank && seen > 0) {
        if (i == counts_.size() - 1) return static_cast<double>(max_) / 1000.0;
        return static_cast<double>((i + 1) * bucketNs_) / 1000.0;
      }
    }
    return static_cast<double>(max_) / 1000.0;
  }
  double maxUs() const { return n_ == 0 ? -1 : static_cast<double>(max_) / 1000.0; }
  std::string json() const {
    char buf[160];
    std::snprintf(buf, sizeof buf, "{\"count\":%llu,\"p50\":%.1f,\"p99\":%.1f,\"max\":%.1f}",
                  static_cast<unsigned long long>(n_), percentileUs(0.5), percentileUs(0.99), maxUs());
    return buf;
  }

 private:
  int64_t bucketNs_;
  std::vector<uint64_t> counts_;
  uint64_t n_ = 0;
  int64_t max_ = 0;
};

uint8_t linearToMulaw(int sample) {
  constexpr int kBias = 0x84, kClip = 32635;
  int sign = (sample >> 8) & 0x80;
  if (sign != 0) sample = -sample;
  if (sample > kClip) sample = kClip;
  sample += kBias;
  int exponent = 7;
  for (int mask = 0x4000; (sample & mask) == 0 && exponent > 0; mask >>= 1) exponent--;
  const int mantissa = (sample >> (exponent + 3)) & 0x0f;
  return static_cast<uint8_t>(~(sign | (exponent << 4) | mantissa));
}

int16_t mulawToLinear(uint8_t u) {
  u = static_cast<uint8_t>(~u);
  const int sign = u & 0x80, exponent = (u >> 4) & 0x07, mantissa = u & 0x0f;
  int sample = ((mantissa << 3) + 0x84) << exponent;
  sample -= 0x84;
  return static_cast<int16_t>(sign != 0 ? -sample : sample);
}

// 127.0.0.1:port.
sockaddr_in loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  return a;
}

// Adds `fd` to the epoll set for input; events carry `tag`.
void watch(int ep, int fd, uint32_t tag) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u32 = tag;
  epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

inline void putBe16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

inline void putBe32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

// A window edge: the generator's CPU time and the machine's jiffies now, then
// the event line for the driver.
void markWindowEdge(const char* event, int64_t& cpu, uint64_t& busy, uint64_t& total) {
  cpu = cpuNs();
  machineJiffies(busy, total);
  std::printf("{\"event\":\"%s\"}\n", event);
  std::fflush(stdout);
}

int toneHz(int talker) { return 500 + 250 * talker; }

struct Phone {
  int fd = -1;
  int port = 0;
  uint32_t ssrc = 0;
  uint16_t seq = 0;
  // receive side (window only)
  uint64_t received = 0;
  uint64_t gaps = 0;
  uint64_t duplicates = 0;
  uint64_t reordered = 0;
  bool haveSeq = false;
  uint16_t lastSeq = 0;
  int64_t lastArrival = 0;
  // onset detector (whole run, latency recorded for onsets sent in the window)
  int quietRun = kRearmSamples;  // armed when >= kRearmSamples
  bool capturing = false;
  int64_t onsetNs = 0;
  int idCount = 0;
  int idCrossings = 0;
  int idLastSign = 0;
  bool idExpectNext = false;
  uint16_t idNextSeq = 0;
};

struct Onset {
  int64_t sentReal;
  bool inWindow;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; i++) {
    const std::string a = argv[i];
    auto next = [&]() -> int {
      if (i + 1 >= argc) die("missing value for " + a);
      return std::atoi(argv[++i]);
    };
    if (a == "--legs") o.legs = next();
    else if (a == "--talkers") o.talkers = next();
    else if (a == "--room-size") o.roomSize = next();
    else if (a == "--warmup-ms") o.warmupMs = next();
    else if (a == "--seconds") o.seconds = next();
    else if (a == "--port-min") o.portMin = next();
    else if (a == "--port-max") o.portMax = next();
    else if (a == "--period-ms") o.periodMs = next();
    else if (a == "--burst-ms") o.burstMs = next();
    else if (a == "--listeners") {
      if (i + 1 >= argc) die("missing value for --listeners");
      const std::string v = argv[++i];
      if (v == "silence") o.listenersSend = true;
      else if (v == "none") o.listenersSend = false;
      else die("--listeners takes silence|none");
    } else die("unknown option " + a);
  }
  if (o.legs < 2) die("--legs must be >= 2");
  if (o.roomSize == 0) o.roomSize = o.legs;
  if (o.roomSize < 2 || o.legs % o.roomSize != 0) die("--room-size must be >= 2 and divide --legs");
  if (o.talkers < 1 || o.talkers > 12 || o.talkers >= o.roomSize) die("--talkers must be 1..12 and < room size");
  if (o.seconds < 1 || o.warmupMs < 0) die("bad --seconds/--warmup-ms");
  if (o.periodMs % 20 != 0 || o.burstMs % 20 != 0 || o.burstMs < 40 || o.burstMs + 40 > o.periodMs)
    die("--period-ms and --burst-ms must be multiples of 20, burst >= 40, period >= burst + 40");
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse(argc, argv);
  const int n = opt.legs;
  const int roomSize = opt.roomSize;
  const int rooms = n / roomSize;
  std::vector<Phone> phones(static_cast<size_t>(n));
  // Talker j of its meeting, or -1 for a listener.
  auto talkerOf = [&](int i) { return i % roomSize < opt.talkers ? i % roomSize : -1; };

  // Bind: even ports from the range, skipping those in use. The port above
  // each is left free: the engine sends its RTCP reports there (RTP + 1),
  // and they must not land on another phone's RTP socket.
  int port = opt.portMin + (opt.portMin & 1);
  for (int i = 0; i < n; i++) {
    Phone& p = phones[static_cast<size_t>(i)];
    p.fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (p.fd < 0) die(std::string("socket: ") + std::strerror(errno));
    const int one = 1;
    setsockopt(p.fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
    for (;; port++) {
      if (port > opt.portMax) die("no free UDP port left in " + std::to_string(opt.portMin) + "-" + std::to_string(opt.portMax));
      const sockaddr_in a = loopback(port);
      if (bind(p.fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0) break;
      if (errno != EADDRINUSE && errno != EACCES) die(std::string("bind: ") + std::strerror(errno));
      port++;  // then +1 below: the next even port
    }
    p.port = port;
    port += 2;
    p.ssrc = 0x10000000u + static_cast<uint32_t>(i);
    p.seq = static_cast<uint16_t>(i * 7919);
  }
  {
    std::string line = "{\"event\":\"bound\",\"ports\":[";
    for (int i = 0; i < n; i++) line += (i ? "," : "") + std::to_string(phones[static_cast<size_t>(i)].port);
    std::printf("%s]}\n", line.c_str());
    std::fflush(stdout);
  }

  // Server ports, then connect().
  std::string line;
  if (!std::getline(std::cin, line)) die("no server ports on stdin");
  {
    std::istringstream in(line);
    for (int i = 0; i < n; i++) {
      int sp = 0;
      if (!(in >> sp) || sp <= 0 || sp > 65535) die("expected " + std::to_string(n) + " server ports on stdin");
      const sockaddr_in a = loopback(sp);
      if (connect(phones[static_cast<size_t>(i)].fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0)
        die(std::string("connect: ") + std::strerror(errno));
    }
  }

  // Payloads: one µ-law silence frame; for talker j the burst frames (cosine,
  // so the very first sample is at full amplitude and the onset is sharp).
  const int burstFrames = opt.burstMs / 20;
  const int periodFrames = opt.periodMs / 20;
  const int cycleFrames = periodFrames * opt.talkers;
  uint8_t silence[kFrameSamples];
  std::memset(silence, 0xff, sizeof silence);
  std::vector<std::vector<uint8_t>> tone(static_cast<size_t>(opt.talkers));
  for (int j = 0; j < opt.talkers; j++) {
    auto& t = tone[static_cast<size_t>(j)];
    t.resize(static_cast<size_t>(burstFrames * kFrameSamples));
    for (size_t s = 0; s < t.size(); s++)
      t[s] = linearToMulaw(static_cast<int>(std::lround(8000.0 * std::cos(2 * M_PI * toneHz(j) * static_cast<double>(s) / 8000.0))));
  }

  const int ep = epoll_create1(EPOLL_CLOEXEC);
  const int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (ep < 0 || tfd < 0) die("epoll/timerfd");
  for (int i = 0; i < n; i++) watch(ep, phones[static_cast<size_t>(i)].fd, static_cast<uint32_t>(i));

  // Time base. Scheduling on CLOCK_MONOTONIC; measurements on CLOCK_REALTIME
  // because SO_TIMESTAMPNS stamps are realtime.
  const int64_t mono0 = nowNs(CLOCK_MONOTONIC);
  const int64_t realOffset = nowNs(CLOCK_REALTIME) - mono0;
  const int64_t start = (mono0 / 1'000'000 + 50) * 1'000'000;  // on a whole ms, 50 ms from now
  const int64_t t0 = start + static_cast<int64_t>(opt.warmupMs) * 1'000'000;
  const int64_t t1 = t0 + static_cast<int64_t>(opt.seconds) * 1'000'000'000;
  const int64_t tEnd = t1 + 500'000'000;
  const int64_t t0Real = t0 + realOffset, t1Real = t1 + realOffset;
  {
    itimerspec spec{};
    spec.it_value = toTimespec(start);
    spec.it_interval = toTimespec(1'000'000);
    timerfd_settime(tfd, TFD_TIMER_ABSTIME, &spec, nullptr);
  }
  // Phases on whole milliseconds: talker j at j*20/T ms (so the latency is
  // sampled at several phases against the mixer tick), listeners spread
  // evenly over the frame. Sends go out in phase order.
  std::vector<int64_t> phaseNs(static_cast<size_t>(n));
  const int listenersTotal = n - rooms * opt.talkers;
  for (int i = 0, listener = 0; i < n; i++) {
    const int j = talkerOf(i);
    const int64_t slot = j >= 0 ? static_cast<int64_t>(j) * 20 / opt.talkers
                                : static_cast<int64_t>(listener++) * 20 / listenersTotal;
    phaseNs[static_cast<size_t>(i)] = slot * 1'000'000;
  }
  std::vector<int> order(static_cast<size_t>(n));
  for (int i = 0; i < n; i++) order[static_cast<size_t>(i)] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return phaseNs[static_cast<size_t>(a)] < phaseNs[static_cast<size_t>(b)]; });

  // Send schedule cursor: frame k of phone i is due at start + k*20ms + phase_i.
  int64_t frameK = 0;
  int phoneCursor = 0;
  Histogram sendLateness(10'000, 10'000);   // 10 µs buckets up to 100 ms
  Histogram arrivalJitter(10'000, 20'000);  // up to 200 ms
  Histogram latency(100'000, 10'000);       // 0.1 ms buckets up to 1 s
  Histogram rxLag(10'000, 20'000);
  uint64_t sends = 0, lateSends = 0, sendErrors = 0, windowSends = 0;
  // Onsets per (meeting, talker): index room * T + j.
  std::vector<std::vector<Onset>> onsets(static_cast<size_t>(rooms * opt.talkers));
  uint64_t onsetsInWindow = 0, detected = 0, unidentified = 0, unmatched = 0;
  uint64_t malformed = 0;

  bool windowOpen = false, windowClosed = false;
  int64_t cpuAt0 = 0, cpuAt1 = 0;
  uint64_t busy0 = 0, total0 = 0, busy1 = 0, total1 = 0;

  constexpr int kBatch = 8;
  uint8_t bufs[kBatch][1500];
  iovec iovs[kBatch];
  mmsghdr msgs[kBatch];
  alignas(cmsghdr) uint8_t ctrl[kBatch][CMSG_SPACE(sizeof(timespec)) + 64];
  for (int b = 0; b < kBatch; b++) {
    iovs[b].iov_base = bufs[b];
    iovs[b].iov_len = sizeof bufs[b];
  }
  uint8_t pkt[12 + kFrameSamples];
  std::vector<epoll_event> events(512);

  auto finishCapture = [&](Phone& p, int room) {
    p.capturing = false;
    // crossings over kIdSamples samples ~= 2 * f * kIdSamples / 8000
    const double f = static_cast<double>(p.idCrossings) * 8000.0 / (2.0 * kIdSamples);
    const int j = static_cast<int>(std::lround((f - 500.0) / 250.0));
    if (j < 0 || j >= opt.talkers || std::fabs(f - toneHz(j)) > 100.0) {
      unidentified++;
      return;
    }
    const auto& list = onsets[static_cast<size_t>(room * opt.talkers + j)];
    // latest onset of that talker sent before the detection
    auto it = std::upper_bound(list.begin(), list.end(), p.onsetNs,
                               [](int64_t t, const Onset& o) { return t < o.sentReal; });
    if (it == list.begin()) {
      unmatched++;
      return;
    }
    --it;
    if (!it->inWindow) return;
    detected++;
    latency.add(p.onsetNs - it->sentReal);
  };

  // Sends everything due (the time-critical part); called before and during
  // the receive processing so a burst of arrivals cannot delay the sends much.
  auto pumpSends = [&]() {
    const int64_t now = nowNs(CLOCK_MONOTONIC);
    while (true) {
      const int i = order[static_cast<size_t>(phoneCursor)];
      const int64_t due = start + frameK * kFrameNs + phaseNs[static_cast<size_t>(i)];
      if (due > now) break;
      Phone& p = phones[static_cast<size_t>(i)];
      const int talker = talkerOf(i);
      const bool isTalker = talker >= 0;
      if (isTalker || opt.listenersSend) {
        const uint8_t* payload = silence;
        bool onset = false;
        if (isTalker) {
          const int64_t inCycle = frameK % cycleFrames - static_cast<int64_t>(talker) * periodFrames;
          if (inCycle >= 0 && inCycle < burstFrames) {
            payload = tone[static_cast<size_t>(talker)].data() + inCycle * kFrameSamples;
            onset = inCycle == 0;
          }
        }
        const uint32_t ts = static_cast<uint32_t>(frameK * kFrameSamples);
        pkt[0] = 0x80;
        pkt[1] = frameK == 0 ? 0x80 : 0x00;  // PT 0 (PCMU), marker on the first packet
        putBe16(pkt + 2, p.seq);
        putBe32(pkt + 4, ts);
        putBe32(pkt + 8, p.ssrc);
        std::memcpy(pkt + 12, payload, kFrameSamples);
        p.seq++;
        const ssize_t r = send(p.fd, pkt, sizeof pkt, MSG_DONTWAIT);
        const int64_t after = nowNs(CLOCK_MONOTONIC);
        if (r != static_cast<ssize_t>(sizeof pkt)) sendErrors++;
        sends++;
        if (due >= t0 && due < t1) {
          windowSends++;
          sendLateness.add(after - due);
          if (after - due > kLateSendNs) lateSends++;
        }
        if (onset) {
          const bool inWin = due >= t0 && due < t1;
          onsets[static_cast<size_t>((i / roomSize) * opt.talkers + talker)].push_back(Onset{after + realOffset, inWin});
          if (inWin) onsetsInWindow++;
        }
      }
      if (++phoneCursor == n) {
        phoneCursor = 0;
        frameK++;
      }
    }
  };

  // The loop sleeps on the 1 ms timer only and polls the phones' epoll set
  // with timeout 0. Nobody ever sleeps on that set, so a packet the server
  // sends does not wake a thread here: on loopback the sender pays the
  // receiver's wakeup, and real phones' wakeups are on their own machines,
  // not on the server's CPU. Arrival times come from kernel timestamps, so
  // polling up to 1 ms after an arrival does not change what is measured.
  pollfd timerPoll{tfd, POLLIN, 0};
  while (true) {
    if (poll(&timerPoll, 1, 50) < 0 && errno != EINTR) die(std::string("poll: ") + std::strerror(errno));
    uint64_t expirations;
    while (read(tfd, &expirations, sizeof expirations) == sizeof expirations) {
    }
    pumpSends();
    for (int round = 0; round < 64; round++) {
      const int got = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 0);
      if (got < 0) {
        if (errno == EINTR) continue;
        die(std::string("epoll_wait: ") + std::strerror(errno));
      }
      if (got == 0) break;
      for (int e = 0; e < got; e++) {
        if (e % 64 == 63) pumpSends();
        const uint32_t idx = events[static_cast<size_t>(e)].data.u32;
        Phone& p = phones[idx];
        while (true) {
          for (int b = 0; b < kBatch; b++) {
            std::memset(&msgs[b].msg_hdr, 0, sizeof msgs[b].msg_hdr);
            msgs[b].msg_hdr.msg_iov = &iovs[b];
            msgs[b].msg_hdr.msg_iovlen = 1;
            msgs[b].msg_hdr.msg_control = ctrl[b];
            msgs[b].msg_hdr.msg_controllen = sizeof ctrl[b];
          }
          const int m = recvmmsg(p.fd, msgs, kBatch, MSG_DONTWAIT, nullptr);
          if (m <= 0) break;
          const int64_t userReal = nowNs(CLOCK_REALTIME);
          for (int b = 0; b < m; b++) {
            int64_t at = userReal;
            for (cmsghdr* c = CMSG_FIRSTHDR(&msgs[b].msg_hdr); c != nullptr; c = CMSG_NXTHDR(&msgs[b].msg_hdr, c)) {
              if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
                timespec ts;
                std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
                at = static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
              }
            }
            const uint8_t* d = bufs[b];
            const size_t len = msgs[b].msg_len;
            if (len < 12 || (d[0] >> 6) != 2) {
              malformed++;
              continue;
            }
            size_t off = 12 + 4 * static_cast<size_t>(d[0] & 0x0f);
            if ((d[0] & 0x10) != 0) {
              if (len < off + 4) { malformed++; continue; }
              off += 4 + 4 * (static_cast<size_t>(d[off + 2]) << 8 | d[off + 3]);
            }
            if (len < off) { malformed++; continue; }
            const uint16_t seq = static_cast<uint16_t>(d[2] << 8 | d[3]);
            const bool inWindow = at >= t0Real && at < t1Real;
            if (inWindow) {
              rxLag.add(userReal - at);
              if (!p.haveSeq) {
                p.haveSeq = true;
                p.received++;
                p.lastSeq = seq;
                p.lastArrival = at;
              } else {
                const uint16_t delta = static_cast<uint16_t>(seq - p.lastSeq);
                if (delta == 0) {
                  p.duplicates++;
                } else if (delta < 0x8000) {
                  p.received++;
                  p.gaps += delta - 1u;
                  if (delta == 1) arrivalJitter.add(std::llabs(at - p.lastArrival - kFrameNs));
                  p.lastSeq = seq;
                  p.lastArrival = at;
                } else {
                  p.received++;
                  p.reordered++;
                  if (p.gaps > 0) p.gaps--;
                }
              }
            }
            // Onset detector over the decoded payload.
            const uint8_t* payload = d + off;
            const int samples = static_cast<int>(len - off);
            if (p.capturing && (!p.idExpectNext || seq != p.idNextSeq)) {
              unidentified++;  // a frame went missing mid-identification
              p.capturing = false;
            }
            for (int s = 0; s < samples; s++) {
              const int x = mulawToLinear(payload[s]);
              const bool loud = x >= kThreshold || x <= -kThreshold;
              if (p.capturing) {
                const int sign = x > 0 ? 1 : (x < 0 ? -1 : 0);
                if (sign != 0) {
                  if (p.idLastSign != 0 && sign != p.idLastSign) p.idCrossings++;
                  p.idLastSign = sign;
                }
                if (++p.idCount == kIdSamples) finishCapture(p, static_cast<int>(idx) / roomSize);
              } else if (loud && p.quietRun >= kRearmSamples) {
                p.capturing = true;
                p.onsetNs = at + static_cast<int64_t>(s) * 125'000;
                p.idCount = 1;
                p.idCrossings = 0;
                p.idLastSign = x > 0 ? 1 : -1;
              }
              p.quietRun = loud ? 0 : p.quietRun + 1;
            }
            p.idExpectNext = p.capturing;
            p.idNextSeq = static_cast<uint16_t>(seq + 1);
          }
          if (m < kBatch) break;
        }
      }
    }

    const int64_t now = nowNs(CLOCK_MONOTONIC);
    if (!windowOpen && now >= t0) {
      windowOpen = true;
      markWindowEdge("window-start", cpuAt0, busy0, total0);
    }
    if (!windowClosed && now >= t1) {
      windowClosed = true;
      markWindowEdge("window-end", cpuAt1, busy1, total1);
    }
    if (now >= tEnd) break;
  }

  // Report.
  const uint64_t expectedPerLeg = static_cast<uint64_t>(opt.seconds) * 50;
  uint64_t received = 0, gaps = 0, shortFrames = 0, lost = 0, dups = 0, reord = 0;
  int legsWithLoss = 0, worstLeg = -1;
  uint64_t worstLost = 0;
  for (int i = 0; i < n; i++) {
    const Phone& p = phones[static_cast<size_t>(i)];
    received += p.received;
    gaps += p.gaps;
    dups += p.duplicates;
    reord += p.reordered;
    // One frame of slack at the window edges (a packet that arrives a little
    // early or late at a boundary); more than that is a missing frame.
    const uint64_t shortBy = p.received + 1 < expectedPerLeg ? expectedPerLeg - 1 - p.received : 0;
    shortFrames += shortBy;
    const uint64_t l = std::max(p.gaps, shortBy);
    lost += l;
    if (l > 0) legsWithLoss++;
    if (l > worstLost) {
      worstLost = l;
      worstLeg = i;
    }
  }
  const double windowS = static_cast<double>(opt.seconds);
  const double genCpuUs = static_cast<double>(cpuAt1 - cpuAt0) / 1000.0;
  const double machineBusy =
      total1 > total0 ? 100.0 * static_cast<double>(busy1 - busy0) / static_cast<double>(total1 - total0) : -1;
  const uint64_t expectedDetections = onsetsInWindow * static_cast<uint64_t>(roomSize - 1);
  std::printf(
      "{\"event\":\"report\",\"legs\":%d,\"roomSize\":%d,\"talkers\":%d,\"listeners\":\"%s\",\"windowSeconds\":%.3f,"
      "\"framesExpected\":%llu,\"framesReceived\":%llu,\"framesLost\":%llu,\"seqGaps\":%llu,\"framesShort\":%llu,"
      "\"duplicates\":%llu,\"reordered\":%llu,\"malformed\":%llu,\"legsWithLoss\":%d,\"worstLeg\":%d,\"worstLegLost\":%llu,"
      "\"arrivalJitterUs\":%s,\"latencyUs\":%s,"
      "\"onsets\":{\"sent\":%llu,\"expectedDetections\":%llu,\"detected\":%llu,\"unidentified\":%llu,\"unmatched\":%llu},"
      "\"generator\":{\"sends\":%llu,\"windowSends\":%llu,\"lateSends\":%llu,\"sendErrors\":%llu,\"sendLatenessUs\":%s,"
      "\"rxLagUs\":%s,\"cpuUs\":%.0f,\"cpuPercentOfCore\":%.1f},\"machineBusyPercent\":%.1f}\n",
      n, roomSize, opt.talkers, opt.listenersSend ? "silence" : "none", windowS,
      static_cast<unsigned long long>(expectedPerLeg * static_cast<uint64_t>(n)), static_cast<unsigned long long>(received),
      static_cast<unsigned long long>(lost), static_cast<unsigned long long>(gaps),
      static_cast<unsigned long long>(shortFrames), static_cast<unsigned long long>(dups),
      static_cast<unsigned long long>(reord), static_cast<unsigned long long>(malformed), legsWithLoss, worstLeg,
      static_cast<unsigned long long>(worstLost), arrivalJitter.json().c_str(), latency.json().c_str(),
      static_cast<unsigned long long>(onsetsInWindow), static_cast<unsigned long long>(expectedDetections),
      static_cast<unsigned long long>(detected), static_cast<unsigned long long>(unidentified),
      static_cast<unsigned long long>(unmatched), static_cast<unsigned long long>(sends),
      static_cast<unsigned long long>(windowSends), static_cast<unsigned long long>(lateSends),
      static_cast<unsigned long long>(sendErrors), sendLateness.json().c_str(), rxLag.json().c_str(), genCpuUs,
      100.0 * genCpuUs / (windowS * 1e6), machineBusy);
  std::fflush(stdout);
  for (auto& p : phones) close(p.fd);
  return 0;
}
