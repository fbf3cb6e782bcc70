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
  size_t index = 0;  // worker-side cursor
  size_t pos = 0;
};

// Single-writer counters: the owning worker writes, anyone reads.
struct LegCounters {
  std::atomic<uint64_t> packetsReceived{0};
  std::atomic<uint64_t> packetsSent{0};
  std::atomic<uint64_t> packetsMalformed{0};
  std::atomic<uint64_t> packetsFromStrangers{0};
  std::atomic<uint64_t> packetsUnknownPayload{0};
  std::atomic<uint64_t> framesConcealed{0};
  std::atomic<uint64_t> dtmfEvents{0};
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
  void onDatagram(const uint8_t* data, size_t size, bool truncated, const SockAddr& from,
                  int64_t nowMs, EventSink& sink);
  // Tick step 1: pull one frame from the jitter buffer into `in`; RTP timeout.
  void pullInput(int64_t nowMs, int64_t rtpTimeoutMs, EventSink& sink);
  // Tick step 3: mix the current playback over `out` (saturating).
  void renderPlayback(EventSink& sink);
  // Tick step 4: encode `out` into an RTP packet in `buf` (>= 12 + 160 bytes).
  size_t writePacket(uint8_t* buf);
  // Tick step 4: writePacket + send to the remote, if one is set.
  void sendFrame(uint8_t* scratch);

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

  // ---- mixer state (owning worker) ----
  int16_t in[kFrameSamples];
  bool inActive = false;  // `in` holds decoded or concealed audio this tick
  int16_t out[kFrameSamples];
  bool speak = false;
  bool hear = false;
  Room* room = nullptr;
  Leg* roomPrev = nullptr;
  Leg* roomNext = nullptr;
  Leg* prev = nullptr;  // worker's list of attached legs
  Leg* next = nullptr;

  LegCounters stats;

 private:
  void onTelephoneEvent(const RtpPacket& pkt, EventSink& sink);

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
  // send state
  uint16_t seq_;
  uint32_t timestamp_;
  bool firstPacket_ = true;
  int16_t decodeBuf_[JitterBuffer::kMaxPacket];
};

}  // namespace media
