// The engine with real threads and sockets (loopback, ports 31900-31999):
// placement, migration between workers, playback, teardown with objects in
// flight. Run under `make asan` / `make tsan` for leak and race checks.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

#include "engine.h"
#include "g711.h"
#include "harness.h"
#include "rtp.h"

using namespace media;

namespace {
EngineConfig config(int workers) {
  EngineConfig c;
  c.bindAddress = "127.0.0.1";
  c.rtpPortMin = 31900;
  c.rtpPortMax = 31999;
  c.workerThreads = workers;
  c.rtpTimeoutMs = 200;
  return c;
}

void sendTo(int fd, int port, const uint8_t* data, size_t n) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sendto(fd, data, n, 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
}

void pump(Engine& e, std::vector<UserEvent>& out, int ms) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < end) {
    e.drainEvents(out);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}
}  // namespace

TEST(engine_rooms_migration_and_teardown) {
  std::atomic<int> wakes{0};
  Engine e(config(2), [&] { wakes++; });
  auto tone = std::make_shared<Sound>();
  std::string err;
  CHECK(makeTone({440}, 200, -12, *tone, err));
  const uint32_t r1 = e.createRoom();
  const uint32_t r2 = e.createRoom();
  std::vector<LegInfo> legs;
  for (int i = 0; i < 6; i++) legs.push_back(e.createLeg(LegParams{Codec::PCMU, 0, 101}));
  for (const LegInfo& l : legs) CHECK(l.port % 2 == 0);
  for (int round = 0; round < 10; round++) {
    for (size_t i = 0; i < legs.size(); i++) e.join(legs[i].id, (i + round) % 2 ? r1 : r2, true, true);
  }
  const uint32_t pb = e.play(legs[0].id, {tone}, true);
  e.setRemote(legs[1].id, "127.0.0.1", 9);  // discard port: sends go nowhere
  // Feed one leg some audio and a DTMF digit.
  const int tx = socket(AF_INET, SOCK_DGRAM, 0);
  uint8_t pkt[12 + 160];
  for (uint16_t s = 0; s < 10; s++) {
    writeRtpHeader(pkt, false, 0, s, 160u * s, 77);
    std::memset(pkt + 12, g711::linearToUlaw(1000), 160);
    sendTo(tx, legs[2].port, pkt, sizeof pkt);
  }
  const uint8_t ev[4] = {3, 0x80, 0x01, 0x40};
  writeRtpHeader(pkt, false, 101, 100, 5000, 99);
  std::memcpy(pkt + 12, ev, 4);
  sendTo(tx, legs[2].port, pkt, 16);
  std::vector<UserEvent> out;
  pump(e, out, 600);
  bool sawDone = false, sawDigit = false, sawTimeout = false;
  for (const UserEvent& u : out) {
    if (u.type == UserEvent::Type::PlaybackDone && u.playbackId == pb && !u.interrupted) sawDone = true;
    if (u.type == UserEvent::Type::Dtmf && u.digit == '3' && u.durationMs == 40) sawDigit = true;
    if (u.type == UserEvent::Type::RtpTimeout && u.legId == legs[2].id) sawTimeout = true;
  }
  CHECK(sawDone);
  CHECK(sawDigit);
  CHECK(sawTimeout);
  CHECK(wakes.load() > 0);
  CHECK_EQ(e.legStats(legs[2].id).packetsReceived, 11u);
  CHECK(e.legStats(legs[1].id).packetsSent > 0);
  const EngineStatsSnapshot st = e.stats();
  CHECK_EQ(st.legs, 6u);
  CHECK_EQ(st.rooms, 2u);
  CHECK(st.ticks > 0);
  // Leave objects in flight: a playback, a migration, closes; then tear down.
  e.play(legs[3].id, {tone, tone}, false);
  e.join(legs[4].id, r1, true, false);
  e.join(legs[4].id, r2, false, true);
  e.closeLeg(legs[4].id);
  e.closeLeg(legs[5].id);
  e.closeRoom(r1);
  bool threw = false;
  try {
    e.join(legs[5].id, r2, true, true);
  } catch (const MediaError& x) {
    threw = x.code() == "ENOLEG";
  }
  CHECK(threw);
  e.close();
  threw = false;
  try {
    e.createRoom();
  } catch (const MediaError& x) {
    threw = x.code() == "ECLOSED";
  }
  CHECK(threw);
  ::close(tx);
}

TEST(engine_ports_exhausted) {
  EngineConfig c = config(1);
  c.rtpPortMin = 31990;
  c.rtpPortMax = 31993;
  Engine e(c, [] {});
  e.createLeg(LegParams{});
  e.createLeg(LegParams{});
  bool threw = false;
  try {
    e.createLeg(LegParams{});
  } catch (const MediaError& x) {
    threw = x.code() == "EPORTS";
  }
  CHECK(threw);
}

// A leg that sends is read blind once a tick (Worker::receiveAll). A burst
// (here five extra packets at once, as after a network stall) must not stay
// queued behind the steady stream: backlog rounds drain it, so a tick later
// everything sent has been read. Then the phone goes quiet long enough for
// its socket to go back to the epoll set, and comes back.
TEST(engine_reads_bursts_and_idle_legs) {
  Engine e(config(1), [] {});
  const LegInfo leg = e.createLeg(LegParams{Codec::PCMU, 0, 101});
  const uint32_t room = e.createRoom();
  e.join(leg.id, room, true, true);
  const int tx = socket(AF_INET, SOCK_DGRAM, 0);
  uint8_t pkt[12 + 160];
  std::memset(pkt + 12, g711::linearToUlaw(0), 160);
  uint16_t seq = 0;
  auto send = [&] {
    writeRtpHeader(pkt, false, 0, seq, 160u * seq, 4242);
    seq++;
    sendTo(tx, leg.port, pkt, sizeof pkt);
  };
  std::vector<UserEvent> out;
  // A phone whose clock runs 5% fast: one packet every 19 ms.
  auto stream = [&](int packets) {
    auto next = std::chrono::steady_clock::now();
    for (int i = 0; i < packets; i++) {
      send();
      e.drainEvents(out);
      next += std::chrono::milliseconds(19);
      std::this_thread::sleep_until(next);
    }
  };
  stream(25);
  for (int i = 0; i < 5; i++) send();
  stream(40);
  // Still streaming: at most the packet(s) of the last tick are unread. A
  // leg read once a tick without its backlog would be 5 behind, and more.
  const uint64_t behind = seq - e.legStats(leg.id).packetsReceived;
  CHECK(behind <= 2);
  // Quiet for 1.5 s (beyond kIdleTicksBeforeEpoll), then three packets.
  pump(e, out, 1500);
  CHECK_EQ(e.legStats(leg.id).packetsReceived, static_cast<uint64_t>(seq));
  for (int i = 0; i < 3; i++) send();
  pump(e, out, 300);
  CHECK_EQ(e.legStats(leg.id).packetsReceived, static_cast<uint64_t>(seq));
  e.close();
  ::close(tx);
}
