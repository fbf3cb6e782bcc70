// Fixed, socket-free workload of the per-leg tick path (receive: parse,
// decode, jitter buffer; pullInput: playout, DTMF screen, talker
// detection; producePacket), for instruction counts under callgrind:
//   g++ -std=c++17 -O3 -Inative/src -o bench/build/legwork bench/legwork.cc
//     native/src/{leg,jitter_buffer,inband_dtmf,rtp,rtcp,g711,audio_codec,resampler,
//     rfc4733,rfc4733_sender,sockaddr,sound,mix,recorder}.cc -lspandsp -lspeexdsp -lm
//   valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.out bench/build/legwork
//   callgrind_annotate /tmp/cg.out | head    (the total "Ir" is the figure)
// 300 legs x 500 ticks: 3 talkers (a 1 kHz tone at -12 dBFS, 40 ms of every
// 100), the rest send mu-law silence. Deterministic: same input, same
// instruction count, whatever else the machine runs.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <vector>

#include "g711.h"
#include "leg.h"
#include "rtp.h"

using namespace media;

namespace {
struct NullSink : EventSink {
  size_t n = 0;
  void emit(const Event&) override { n++; }
};
}  // namespace

int main(int argc, char** argv) {
  // Optional: legs and ticks (default 300 x 500, the callgrind workload);
  // the CPU time per leg-tick is printed too (noisy on a shared machine).
  const int kLegs = argc > 1 ? std::atoi(argv[1]) : 300;
  const int kTicks = argc > 2 ? std::atoi(argv[2]) : 500;
  constexpr int kTalkers = 3;
  std::vector<std::unique_ptr<Leg>> legs;
  for (int i = 0; i < kLegs; i++) {
    LegConfig c;
    c.id = static_cast<uint32_t>(i + 1);
    c.codec = Codec::PCMU;
    c.payloadType = 0;
    c.telephoneEventPayloadType = 101;
    c.ssrc = 1000u + static_cast<uint32_t>(i);
    legs.push_back(std::make_unique<Leg>(c, -1));
  }
  SockAddr from;
  SockAddr::parse("127.0.0.1", 40000, from);
  NullSink sink;
  uint8_t pkt[12 + 160];
  uint8_t out[1500];
  // Payloads made beforehand, so that only the legs' work is counted.
  std::vector<uint8_t> tone(static_cast<size_t>(kTicks) * 160);
  for (size_t k = 0; k < tone.size(); k++) {
    tone[k] = g711::linearToUlaw(static_cast<int16_t>(8000 * std::sin(2 * M_PI * 1000 * static_cast<double>(k) / 8000.0)));
  }
  const uint8_t silence = g711::linearToUlaw(0);
  timespec t0{}, t1{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
  for (int t = 0; t < kTicks; t++) {
    const int64_t nowMs = t * 20;
    for (int i = 0; i < kLegs; i++) {
      writeRtpHeader(pkt, false, 0, static_cast<uint16_t>(t), static_cast<uint32_t>(t) * 160u, 5000u + static_cast<uint32_t>(i));
      const bool talks = i < kTalkers && (t % 5) < 2 && (t / 5) % kTalkers == i;
      if (talks) std::memcpy(pkt + 12, tone.data() + static_cast<size_t>(t) * 160, 160);
      else std::memset(pkt + 12, silence, 160);
      legs[static_cast<size_t>(i)]->onDatagram(pkt, sizeof pkt, false, from, nowMs, sink, nowMs * 1000);
    }
    for (auto& l : legs) l->pullInput(nowMs, 0, sink);
    for (auto& l : legs) l->producePacket(sink, out);
  }
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
  const double ns = (t1.tv_sec - t0.tv_sec) * 1e9 + static_cast<double>(t1.tv_nsec - t0.tv_nsec);
  std::printf("legwork: %d legs x %d ticks, %zu events, %.0f ns CPU per leg-tick\n", kLegs, kTicks, sink.n,
              ns / (static_cast<double>(kLegs) * kTicks));
  return 0;
}
