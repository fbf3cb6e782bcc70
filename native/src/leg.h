// One call leg: its RTP socket, receive path (validation, RFC 4733, jitter
// buffer), playback and send path. Created on the JS thread, then owned by
// exactly one worker while attached; stats are atomics readable from any
// thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "g711.h"
#include "jitter_buffer.h"
#include "messages.h"
#include "rfc4733.h"
#include "rtcp.h"
#include "rtp.h"
#include "sockaddr.h"
#include "sound.h"

namespace media {

constexpr int kFrameSamples = 160;  // 20 ms at 8 kHz
constexpr int kFrameMs = 20;

// A queue of sounds to play on a leg. Built on the JS thread (which owns the
// sound references), read by the worker, handed back through PlaybackDone.
struct Playback {
  uint32_t id = 0;
  std::vector<SoundPtr> sounds;
  bool interruptible = true;
  bool loop = false;  // hold music: restarts at the end, never finishes
  size_t index = 0;  // worker-side cursor
  size_t pos = 0;
  OwnedEventNode node{};  // worker's overflow FIFO of ownership events
};

// Renders up to kFrameSamples samples of `p` into `out` (adding, saturating,
// when `add`; otherwise overwriting and zero-filling the rest). Returns true
// when a non-looping playback has reached its end. A looping playback whose
// sounds are all empty renders silence.
bool renderSounds(Playback& p, int16_t* out, bool add);

// Talker detection (energy with hysteresis). Levels are the frame RMS in dB
// relative to full scale (an RMS of 32767 = 0 dB; a full-scale sine is -3 dB).
constexpr double kTalkStartDb = -38.0;  // a frame at or above this starts talking
constexpr double kTalkStopDb = -46.0;   // frames below this count toward the hangover
constexpr int kTalkHangoverFrames = 20;  // 400 ms below kTalkStopDb ends talking
// DTMF key presses: at most one per kDtmfIntervalMs on average, bursts of
// kDtmfBurst presses (GCRA); the rest are counted in dtmfSuppressed.
constexpr int64_t kDtmfIntervalMs = 50;
constexpr int kDtmfBurst = 10;

double levelDb(double meanSquare);

// Single-writer counters: the owning worker writes, anyone reads.
struct LegCounters {
  std::atomic<uint64_t> packetsReceived{0};
  std::atomic<uint64_t> packetsSent{0};
  std::atomic<uint64_t> packetsMalformed{0};
  std::atomic<uint64_t> packetsFromStrangers{0};
  std::atomic<uint64_t> packetsUnknownPayload{0};
  std::atomic<uint64_t> framesConcealed{0};
  std::atomic<uint64_t> dtmfEvents{0};
  std::atomic<uint64_t> dtmfSuppressed{0};
  // Jitter buffer (jitter_buffer.h): delay now and its target, in samples;
  // frames inserted / dropped to follow the target; packets too late.
  std::atomic<uint64_t> jitterDelaySamples{0};
  std::atomic<uint64_t> jitterTargetSamples{0};
  std::atomic<uint64_t> jitterFramesInserted{0};
  std::atomic<uint64_t> jitterFramesDropped{0};
  std::atomic<uint64_t> packetsLate{0};
  // RTP bytes (headers included) and RTCP (rtcp.h). Signed values are
  // stored as their two's complement; rttUsPlus1 is 0 while unknown.
  std::atomic<uint64_t> bytesReceived{0};
  std::atomic<uint64_t> bytesSent{0};
  std::atomic<uint64_t> rtcpSent{0};
  std::atomic<uint64_t> rtcpReceived{0};
  std::atomic<uint64_t> rtcpMalformed{0};
  std::atomic<uint64_t> packetsLost{0};
  std::atomic<uint64_t> fractionLost{0};     // /256, our last report's interval
  std::atomic<uint64_t> jitterRtp{0};        // RFC 3550 interarrival jitter, RTP units
  std::atomic<uint64_t> remoteFractionLost{0};
  std::atomic<uint64_t> remotePacketsLost{0};
  std::atomic<uint64_t> remoteJitterRtp{0};
  std::atomic<uint64_t> rttUsPlus1{0};
};

// Increment without a locked RMW: only one thread writes a given counter.
inline void bump(std::atomic<uint64_t>& c, uint64_t n = 1) {
  c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

struct LegConfig {
  uint32_t id = 0;
  Codec codec = Codec::PCMU;
  uint8_t payloadType = 0;
  int telephoneEventPayloadType = -1;  // -1: none negotiated
  uint32_t ssrc = 0;
  uint16_t initialSeq = 0;
  uint32_t initialTimestamp = 0;
  bool rtcpMux = false;  // RTCP shares the RTP port (RFC 5761)
};

struct Room;

class Leg {
 public:
  // Takes ownership of `fd` (may be -1 for tests: nothing is sent).
  Leg(const LegConfig& config, int fd);
  ~Leg();
  Leg(const Leg&) = delete;
  Leg& operator=(const Leg&) = delete;

  uint32_t id() const { return config_.id; }
  int fd() const { return fd_; }
  const LegConfig& config() const { return config_; }

  // ---- worker thread only ----
  // Setting the remote also starts the RTP-timeout clock: a call whose media
  // never arrives is as dead as one whose media stopped.
  void setRemote(const SockAddr& remote, int64_t nowMs) {
    remote_ = remote;
    if (!timeoutArmed_) {
      timeoutArmed_ = true;
      lastRxMs_ = nowMs;
    }
  }
  const SockAddr& remote() const { return remote_; }

  // One received datagram. `truncated`: it did not fit the receive buffer.
  // `arrivalUs`: the kernel's receive time (any clock, µs) when known; the
  // RTCP jitter is measured on it (else on nowMs).
  void onDatagram(const uint8_t* data, size_t size, bool truncated, const SockAddr& from,
                  int64_t nowMs, EventSink& sink, int64_t arrivalUs = -1);
  // One datagram on the RTCP port (or RTCP on the muxed RTP port).
  void onRtcpDatagram(const uint8_t* data, size_t size, bool truncated, const SockAddr& from);
  // When an RTCP report is due (every rtcpIntervalMs, randomized 0.5-1.5x,
  // the first after half of that), writes it into `buf` (>= kRtcpMaxReport)
  // and returns its size, the socket and the destination (remote port + 1,
  // or the RTP port with rtcp-mux); else 0. intervalMs 0: never.
  size_t produceRtcp(int64_t nowMs, int64_t intervalMs, uint8_t* buf, int& fd, SockAddr& to);
  // The RTCP socket (port + 1); -1 with rtcp-mux or none. Owned.
  void setRtcpFd(int fd) { rtcpFd_ = fd; }
  int rtcpFd() const { return rtcpFd_; }
  const RtcpSession& rtcp() const { return rtcp_; }
  // Tick step 1: pull one frame from the jitter buffer into `in`, apply the
  // input gain, detect talking (events); RTP timeout.
  void pullInput(int64_t nowMs, int64_t rtpTimeoutMs, EventSink& sink);
  // Tick step 3 (after the rooms are mixed): what the leg hears this tick
  // (hold music, its N-1 mix, the room's shared mix, or silence), prompts
  // over it, output gain; then encode and send. Listeners hearing the shared
  // mix unchanged get the room's payload encoded once per codec.
  void produceAndSend(EventSink& sink, uint8_t* scratch);
  // produceAndSend without the send: writes the packet into `buf` (>= 1500
  // bytes) and returns its size, or 0 when nothing is to be sent. The worker
  // sends it in a batch and calls countSent() for each packet that left.
  size_t producePacket(EventSink& sink, uint8_t* buf);
  void countSent(size_t bytes) {
    bump(stats.packetsSent);
    bump(stats.bytesSent, bytes);
    rtcp_.onSent(bytes > kRtpHeaderSize ? bytes - kRtpHeaderSize : 0);
  }
  // Tick step 3 helpers (also used by tests).
  void renderPlayback(EventSink& sink);  // current playback over `out` (saturating)
  // Encodes `out` (or `payload` when not null) into an RTP packet in `buf`
  // (>= 12 + 160 bytes).
  size_t writePacket(uint8_t* buf, const uint8_t* payload = nullptr);

  // What produceAndSend takes the leg's audio from this tick.
  enum class Source : uint8_t { Silence, Shared, Own };
  Source source() const;

  // Replaces the current playback (its PlaybackDone reports interrupted).
  void startPlayback(Playback* playback, EventSink& sink);
  void stopPlayback(bool interrupted, EventSink& sink);
  bool playing() const { return playback_ != nullptr; }

  // Gives up the playback without an event (engine teardown).
  Playback* releasePlayback() {
    Playback* p = playback_;
    playback_ = nullptr;
    return p;
  }

  // Hold: the leg hears `music` looping (or silence when null) instead of the
  // room and never enters the mix. A previous hold playback goes back to the
  // JS thread (FreePlayback).
  void hold(Playback* music, EventSink& sink);
  void unhold(EventSink& sink);
  bool held() const { return held_; }

  // Linear gains (1 = 0 dB) applied to what the leg says / hears.
  void setGain(float in, float out) {
    gainIn_ = in;
    gainOut_ = out;
  }
  // false: no RTP is sent (the phone put the call on hold); time still runs,
  // and the first packet after resuming carries the marker bit.
  void setSending(bool on) { sending_ = on; }
  bool sending() const { return sending_; }

  // Talker detection on the current `in` frame (part of pullInput; public
  // for tests): emits Talking start/stop events.
  void detectTalking(EventSink& sink);
  bool talking() const { return talking_; }
  // Peak-hold frame energy (mean square) used to rank talkers.
  float score() const { return score_; }

  // ---- mixer state (owning worker) ----
  int16_t in[kFrameSamples];
  bool inActive = false;  // `in` holds decoded or concealed audio this tick
  int16_t out[kFrameSamples];
  bool speak = false;
  bool hear = false;
  bool mixed = false;      // selected into the room's mix this tick
  bool wasMixed = false;   // ... the tick before
  float limiterGain = 1.f; // limiter state of this leg's own N-1 mix
  Room* room = nullptr;
  Leg* roomPrev = nullptr;
  Leg* roomNext = nullptr;
  Leg* prev = nullptr;  // worker's list of attached legs
  Leg* next = nullptr;

  LegCounters stats;
  OwnedEventNode node{};  // worker's overflow FIFO of ownership events

 private:
  // Hands the hold music (if any) back to the JS thread to free.
  void releaseHoldMusic(EventSink& sink);
  void onTelephoneEvent(const RtpPacket& pkt, int64_t nowMs, EventSink& sink);
  void publishRtcpPeerStats();
  void publishJitterStats() {
    stats.jitterDelaySamples.store(static_cast<uint64_t>(jitter_.playoutDepth()), std::memory_order_relaxed);
    stats.jitterTargetSamples.store(static_cast<uint64_t>(jitter_.targetDelay()), std::memory_order_relaxed);
    stats.jitterFramesInserted.store(jitter_.inserted, std::memory_order_relaxed);
    stats.jitterFramesDropped.store(jitter_.dropped, std::memory_order_relaxed);
    stats.packetsLate.store(jitter_.late, std::memory_order_relaxed);
    stats.packetsLost.store(static_cast<uint64_t>(rtcp_.cumulativeLost()), std::memory_order_relaxed);
    stats.jitterRtp.store(rtcp_.jitter(), std::memory_order_relaxed);
  }

  LegConfig config_;
  int fd_;
  SockAddr remote_;
  JitterBuffer jitter_;
  Rfc4733Decoder dtmf_;
  Playback* playback_ = nullptr;
  bool haveAudioSsrc_ = false;
  uint32_t audioSsrc_ = 0;
  bool timeoutArmed_ = false;  // remote set or RTP received: the timeout applies
  bool timedOut_ = false;
  int64_t lastRxMs_ = 0;
  int64_t dtmfTatMs_ = 0;  // GCRA theoretical arrival time of the next press
  // controls
  float gainIn_ = 1.f;
  float gainOut_ = 1.f;
  bool sending_ = true;
  bool held_ = false;
  Playback* hold_ = nullptr;
  // talker detection
  bool talking_ = false;
  int hangover_ = 0;
  float score_ = 0.f;
  // send state
  uint16_t seq_;
  uint32_t timestamp_;
  bool firstPacket_ = true;  // marker bit on the next packet
  int16_t decodeBuf_[JitterBuffer::kMaxPacket];
  // RTCP
  RtcpSession rtcp_;
  int rtcpFd_ = -1;
  int64_t nextRtcpMs_ = -1;  // -1: not scheduled yet
  uint32_t rtcpRand_;        // xorshift state for the interval randomization
};

}  // namespace media
