// One call leg: its RTP socket, receive path (validation, RFC 4733, jitter
// buffer), playback and send path. Created on the JS thread, then owned by
// exactly one worker while attached; stats are atomics readable from any
// thread.
#pragma once

#include <atomic>
#include <memory>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "audio_codec.h"
#include "g711.h"
#include "inband_dtmf.h"
#include "jitter_buffer.h"
#include "messages.h"
#include "resampler.h"
#include "rfc4733.h"
#include "rfc4733_sender.h"
#include "rtcp.h"
#include "rtp.h"
#include "sockaddr.h"
#include "sound.h"

namespace media {

constexpr int kFrameSamples = 160;  // 20 ms at 8 kHz; also RTP clock ticks per frame
constexpr int kMaxFrameSamples = 320;  // 20 ms at 16 kHz (G.722 legs, wideband rooms)
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
  Playback* nextQueued = nullptr;  // worker-side queue of a leg or room
  OwnedEventNode node{};  // worker's overflow FIFO of ownership events
};

// A queue of playbacks (intrusive: queuing never allocates). Worker-side.
struct PlaybackQueue {
  Playback* current = nullptr;
  Playback* head = nullptr;  // waiting, in order
  Playback* tail = nullptr;
  void append(Playback* p) {
    p->nextQueued = nullptr;
    if (current == nullptr) {
      current = p;
      return;
    }
    if (tail != nullptr) tail->nextQueued = p;
    else head = p;
    tail = p;
  }
  Playback* popWaiting() {
    Playback* p = head;
    if (p != nullptr) {
      head = p->nextQueued;
      if (head == nullptr) tail = nullptr;
      p->nextQueued = nullptr;
    }
    return p;
  }
  // Frees everything (JS thread, teardown).
  void clear() {
    delete current;
    current = nullptr;
    while (Playback* p = popWaiting()) delete p;
  }
};

// Emits PlaybackDone (handing the playback back) for the current playback
// and, when `all`, every waiting one; `roomId` != 0 for a room's queue.
void endPlayback(PlaybackQueue& q, bool interrupted, bool all, uint32_t legId, uint32_t roomId, EventSink& sink);

// Renders one 20 ms frame (rate / 50 samples) of `p`, from the sounds'
// version at `rate`, into `out` (adding, saturating, when `add`; otherwise
// overwriting and zero-filling the rest). Returns true when a non-looping
// playback has reached its end. A looping playback whose sounds are all
// empty renders silence.
bool renderSounds(Playback& p, int16_t* out, bool add, int rate = 8000);

// Talker detection (energy with hysteresis). Levels are the frame RMS in dB
// relative to full scale (an RMS of 32767 = 0 dB; a full-scale sine is -3 dB).
constexpr double kTalkStartDb = -38.0;  // a frame at or above this starts talking
constexpr double kTalkStopDb = -46.0;   // frames below this count toward the hangover
constexpr int kTalkHangoverFrames = 20;  // 400 ms below kTalkStopDb ends talking
// After the last telephone-event packet, audio stays gated for what the
// jitter buffer holds plus this margin.
constexpr int64_t kRfc4733GateMarginMs = 60;
// An RFC 4733 press this soon after the same in-band digit is that digit.
constexpr int64_t kDtmfSamePressMs = 300;
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
  std::atomic<uint64_t> dtmfInband{0};       // of dtmfEvents, detected in the audio
  std::atomic<uint64_t> framesDtmfGated{0};  // audio frames kept out of the mix as DTMF
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
  std::atomic<uint64_t> jitterRtp{0};        // RFC 3550 interarrival jitter, in 8 kHz units (Opus: scaled from 48 kHz)
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

// RFC 3389 comfort noise, static payload type 13 (CN/8000, RFC 3551).
constexpr uint8_t kComfortNoisePayloadType = 13;
// Loudest comfort noise a leg plays (dBov): well under kTalkStopDb, so
// noise never makes a talker, but within the quiet-talker floor (-60 dBFS)
// so listeners hear it when a mix slot is free.
constexpr int kMaxComfortNoiseDb = -50;

// An Opus packet (<= OpusCodec::kMaxPayload bytes) as 160 jitter-buffer
// words and back: word 0 its length, then two bytes a word.
void packOpus(const uint8_t* payload, int bytes, int16_t* words);
int unpackOpus(const int16_t* words, uint8_t* payload);

class Leg {
 public:
  // Takes ownership of `fd` (may be -1 for tests: nothing is sent).
  Leg(const LegConfig& config, int fd);
  ~Leg();
  Leg(const Leg&) = delete;
  Leg& operator=(const Leg&) = delete;

  uint32_t id() const { return config_.id; }
  // Audio rate of the leg's codec (8000, or 16000 for G.722) and its frame.
  int rate() const { return codec_.rate(); }
  int frameSamples() const { return codec_.frameSamples(); }
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
  // Tick step 1: pull one frame from the jitter buffer into `in` (decoded,
  // DTMF-screened, input gain, talker detection at the leg's rate, then at
  // the rate of its room: `inRate`); RTP timeout.
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
  // This tick's telephone-event packet instead of audio (RFC 4733 send).
  size_t writeEventPacket(uint8_t* buf, const uint8_t* event, uint32_t eventTimestamp, bool marker);

  // What produceAndSend takes the leg's audio from this tick.
  enum class Source : uint8_t { Silence, Shared, Own };
  Source source() const;

  // Replaces the current playback and the queue (their PlaybackDone report
  // interrupted), or with `queue`, plays after what is playing or queued.
  void startPlayback(Playback* playback, EventSink& sink, bool queue = false);
  // Stops the current playback and empties the queue (all interrupted).
  void stopPlayback(bool interrupted, EventSink& sink);
  bool playing() const { return player_.current != nullptr; }

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
  // A re-negotiated codec (re-INVITE, or the answer to our offer): fresh
  // codec state and jitter buffer, the room's rate follows. No allocation.
  // `opus`: Opus state made on the JS thread, handed over (owned from here
  // on) the first time the leg switches to Opus; ignored when it has one.
  void setCodec(Codec codec, uint8_t payloadType, OpusCodec* opus = nullptr);
  // Lost Opus frames rebuilt from the next packet's FEC (worker thread; tests).
  uint64_t opusFecRecovered() { return codec_.hasOpus() ? codec_.opus()->fecRecovered : 0; }
  // Sends `r` as RFC 4733 events on the leg's telephone-event PT (see
  // rfc4733_sender.h), replacing a request in progress (DigitsSent with
  // interrupted). DigitsSent follows the last end packet.
  void sendDigits(const DigitRequest& r, EventSink& sink);
  bool sending() const { return sending_; }

  // Talker detection on the current `in` frame (part of pullInput; public
  // for tests): emits Talking start/stop events.
  void detectTalking(EventSink& sink);
  bool talking() const { return talking_; }
  // Peak-hold frame energy (mean square) used to rank talkers.
  float score() const { return score_; }

  // ---- mixer state (owning worker) ----
  int16_t in[kMaxFrameSamples];
  bool inActive = false;  // `in` holds decoded or concealed audio this tick
  int inRate = 8000;      // rate of `in` after pullInput (the room's)
  int16_t out[kMaxFrameSamples];  // N-1 at the room's rate (mixRoom), then what the leg hears
  bool speak = false;
  bool hear = false;
  bool mixed = false;      // selected into the room's mix this tick
  bool whispered = false;  // a whisper was added to `out` this tick (mixRoom)
  // Whisper: when count > 0 the leg is heard only by these legs of its room
  // (never in the room's mix).
  WhisperTargets whisper{};
  bool whispers() const { return whisper.count > 0; }
  bool whisperTarget(uint32_t legId) const {
    for (int i = 0; i < whisper.count; i++) {
      if (whisper.legIds[i] == legId) return true;
    }
    return false;
  }
  bool wasMixed = false;   // ... the tick before
  float limiterGain = 1.f; // limiter state of this leg's own N-1 mix
  Room* room = nullptr;
  Leg* roomPrev = nullptr;
  Leg* roomNext = nullptr;
  Leg* prev = nullptr;  // worker's list of attached legs
  Leg* next = nullptr;
  // The worker's receive bookkeeping for the RTP socket (Worker::receiveAll).
  bool rxPolled = false;    // read blind once a tick, outside the epoll set
  bool rxBacklog = false;   // on the worker's backlog list: read again this tick
  uint8_t rxIdleTicks = 0;  // consecutive ticks a blind read found nothing
  Leg* rxBacklogNext = nullptr;

  LegCounters stats;
  OwnedEventNode node{};  // worker's overflow FIFO of ownership events

 private:
  // Hands the hold music (if any) back to the JS thread to free.
  void releaseHoldMusic(EventSink& sink);
  void onTelephoneEvent(const RtpPacket& pkt, int64_t nowMs, EventSink& sink);
  void digitsSent(bool interrupted, EventSink& sink);
  // Rate limit, event, prompt interruption: one press from either source.
  void reportDigit(char digit, DtmfSource source, uint32_t durationMs, int64_t nowMs, EventSink& sink);
  // In-band detection on this tick's decoded frame, then the hold-back gate
  // (inband_dtmf.h): `in` becomes the frame from kDtmfHoldBackFrames ago,
  // without audio if it was part of a digit.
  void screenDtmf(int64_t nowMs, EventSink& sink);

  // The room's audio (N-1 or shared, at the room's rate) into `out` at the
  // leg's rate.
  void roomAudioToOut(Source src);
  void publishRtcpPeerStats();
  void publishJitterStats() {
    stats.jitterDelaySamples.store(static_cast<uint64_t>(jitter_.playoutDepth()), std::memory_order_relaxed);
    stats.jitterTargetSamples.store(static_cast<uint64_t>(jitter_.targetDelay()), std::memory_order_relaxed);
    stats.jitterFramesInserted.store(jitter_.inserted, std::memory_order_relaxed);
    stats.jitterFramesDropped.store(jitter_.dropped, std::memory_order_relaxed);
    stats.packetsLate.store(jitter_.late, std::memory_order_relaxed);
    stats.packetsLost.store(static_cast<uint64_t>(rtcp_.cumulativeLost()), std::memory_order_relaxed);
    // Stats keep 8 kHz units whatever the codec's clock (the binding's ms = /8).
    stats.jitterRtp.store(static_cast<uint64_t>(rtcp_.jitter()) * kFrameSamples / rtpTicksPerFrame(config_.codec), std::memory_order_relaxed);
  }

  LegConfig config_;
  AudioCodec codec_;
  // Narrowband legs in a wideband room: up for what they say, down for
  // their N-1. Wideband legs: down for the DTMF detector (8 kHz only).
  std::unique_ptr<Resampler> up_;
  std::unique_ptr<Resampler> down_;
  int fd_;
  SockAddr remote_;
  JitterBuffer jitter_;
  Rfc4733Decoder dtmf_;
  Rfc4733Sender digitSender_;
  InbandDtmfDetector inband_;
  DtmfGate dtmfGate_;
  // Audio is gated while an RFC 4733 press goes on and until its audio has
  // left the jitter buffer (phones often send the tone in-band as well).
  int64_t rfc4733GateUntilMs_ = 0;
  // A phone that sends RFC 4733 sends every key that way: from its first
  // telephone-event on, in-band digits are still gated but not reported (its
  // audio copy of a key would otherwise be a second press whenever the audio
  // lags the events). Before that, an RFC 4733 press repeating the in-band
  // digit just reported is the same press.
  bool rfc4733Seen_ = false;
  char lastInbandDigit_ = 0;
  int64_t lastInbandMs_ = 0;
  PlaybackQueue player_;
  bool comfortNoise_ = false;  // RFC 3389 CN received since the last audio packet
  int cnAmplitude_ = 0;        // peak of the uniform comfort noise (0: none)
  uint32_t cnRand_ = 0x9E3779B9u;  // xorshift state of the noise
  void setComfortNoiseLevel(int dBov);
  // Comfort noise into `in` (n samples); false when the level is silence.
  bool fillComfortNoise(int n);
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
  // G.711 is decoded on arrival; G.722 (stateful ADPCM) goes through the
  // jitter buffer as code words, one per RTP tick, and is decoded in order.
  // Opus goes through it packed: one 20 ms packet per 160 words (length,
  // then two bytes a word) at timestamp / 6, decoded in order too.
  int16_t decodeBuf_[JitterBuffer::kMaxPacket];
  // RTCP
  RtcpSession rtcp_;
  int rtcpFd_ = -1;
  int64_t nextRtcpMs_ = -1;  // -1: not scheduled yet
  uint32_t rtcpRand_;        // xorshift state for the interval randomization
};

}  // namespace media
