// The JS-thread side of the media engine, free of N-API: allocates legs,
// sockets, rooms and playbacks, places them on workers, queues commands,
// drains events and frees what workers hand back.
//
// Placement: a new leg goes to the worker with the fewest legs; a new room to
// the worker with the fewest rooms. A leg joining a room on another worker
// migrates: the engine queues DetachLeg to its worker, holds the leg's later
// commands, and on LegDetached attaches it to the room's worker and replays
// them. Lobby legs stay where they are. With one worker nothing migrates.
//
// All methods must be called from one thread (the JS thread), except
// `wake`, which the notifier thread calls.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "g711.h"
#include "messages.h"
#include "recorder.h"
#include "sound.h"

namespace media {

class Leg;
struct Room;
struct Playback;
class Worker;
class Notifier;

// Error with a stable code the TypeScript layer maps to typed errors:
// ECLOSED (engine closed), ENOLEG / ENOROOM (unknown or closed id),
// EPORTS (port range exhausted), EINVAL (bad argument), ESOUND (bad sound),
// ESOCKET (socket error), EBUSY (command queue full).
class MediaError : public std::runtime_error {
 public:
  MediaError(std::string code, const std::string& message)
      : std::runtime_error(message), code_(std::move(code)) {}
  const std::string& code() const { return code_; }

 private:
  std::string code_;
};

struct EngineConfig {
  std::string bindAddress = "127.0.0.1";
  int rtpPortMin = 20000;
  int rtpPortMax = 30000;
  int workerThreads = 1;
  int rtpTimeoutMs = 30000;
  int maxTalkers = 4;  // default loudest talkers mixed per room
  int rtcpIntervalMs = 5000;  // RTCP report interval (RFC 3550 minimum); 0: none
};

struct LegParams {
  Codec codec = Codec::PCMU;
  int payloadType = 0;
  int telephoneEventPayloadType = -1;
  bool rtcpMux = false;  // RTCP on the RTP port; else on port + 1
};

struct LegInfo {
  uint32_t id = 0;
  std::string address;
  int port = 0;
  int rtcpPort = 0;  // 0 with rtcp-mux
};

struct UserEvent {
  enum class Type { Dtmf, PlaybackDone, RtpTimeout, Talking, DigitsSent, RecordingDone } type = Type::Dtmf;
  uint32_t legId = 0;
  char digit = 0;
  bool dtmfInband = false;  // else RFC 4733
  uint32_t durationMs = 0;
  uint32_t playbackId = 0;
  uint32_t roomId = 0;     // PlaybackDone of a room announcement
  uint32_t requestId = 0;  // DigitsSent
  bool interrupted = false;
  bool talking = false;
  double energy = 0;  // Talking: frame level in dB re full scale
  // RecordingDone (legId 0)
  uint32_t recordingId = 0;
  std::string error;
  uint64_t recordedMs = 0;
  uint64_t framesDropped = 0;
  std::vector<RecordingTrack> tracks;
};

struct LegStatsSnapshot {
  uint64_t packetsReceived = 0, packetsSent = 0, packetsMalformed = 0, packetsFromStrangers = 0,
           packetsUnknownPayload = 0, framesConcealed = 0, dtmfEvents = 0, dtmfSuppressed = 0,
           dtmfInband = 0, framesDtmfGated = 0;
  // Jitter buffer: gauges (samples) and counters; totals add only counters.
  uint64_t jitterDelaySamples = 0, jitterTargetSamples = 0, jitterFramesInserted = 0,
           jitterFramesDropped = 0, packetsLate = 0;
  // RTP bytes; RTCP counters; receive statistics of the remote's stream
  // (RFC 3550) and what the remote reports about ours. rttUs -1: unknown.
  uint64_t bytesReceived = 0, bytesSent = 0, rtcpSent = 0, rtcpReceived = 0, rtcpMalformed = 0;
  int64_t packetsLost = 0, remotePacketsLost = 0, rttUs = -1;
  uint64_t fractionLost = 0, jitterRtp = 0, remoteFractionLost = 0, remoteJitterRtp = 0;
};

struct EngineStatsSnapshot {
  uint64_t legs = 0, rooms = 0, ticks = 0, lateTicks = 0, packetsReceived = 0, packetsSent = 0,
           packetsMalformed = 0, packetsFromStrangers = 0, packetsUnknownPayload = 0,
           eventsDropped = 0, eventsDeferred = 0;
  // Tick lateness, 100 us buckets, summed over workers; the last is overflow.
  std::vector<uint64_t> tickLateness;
  // "io_uring" when every worker batches through io_uring, else "syscalls"
  // and the first worker's reason.
  std::string ioBackend;
  std::string ioFallbackReason;
};

class Engine {
 public:
  // `wake` is called from the notifier thread when events are waiting; the
  // owner must then call drainEvents() on the JS thread.
  Engine(const EngineConfig& config, std::function<void()> wake);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  LegInfo createLeg(const LegParams& params);
  void setRemote(uint32_t legId, const std::string& address, int port);
  // The codec a re-negotiation settled on (the leg's telephone-event PT stays).
  void setCodec(uint32_t legId, Codec codec, int payloadType);
  // queue: after the current playback and those already queued; else
  // replaces them (their PlaybackDone report interrupted).
  uint32_t play(uint32_t legId, std::vector<SoundPtr> sounds, bool interruptible, bool queue = false);
  // An announcement every hearing member of the room hears (and the
  // recording gets); PlaybackDone carries the room id.
  uint32_t playRoom(uint32_t roomId, std::vector<SoundPtr> sounds, bool queue);
  void stopRoomPlayback(uint32_t roomId);
  void stopPlayback(uint32_t legId);
  // The leg is heard only by `targets` (legs of its room), or by the room
  // again when empty.
  void setWhisper(uint32_t legId, const std::vector<uint32_t>& targets);
  // Sends `digits` (0-9 * # A-D, at most kMaxSendDigits) as RFC 4733 events,
  // each held durationMs with gapMs between keys (both rounded to 20 ms);
  // replaces a request in progress. Returns the id its DigitsSent carries.
  uint32_t sendDigits(uint32_t legId, const std::string& digits, int durationMs, int gapMs);
  static constexpr int kMinDigitMs = 40;
  static constexpr int kMinDigitGapMs = 20;
  static constexpr int kMaxDigitMs = 5000;
  void join(uint32_t legId, uint32_t roomId, bool speak, bool hear);
  void update(uint32_t legId, bool speak, bool hear);
  void leave(uint32_t legId);
  void closeLeg(uint32_t legId);
  // maxTalkers < 0: the engine default.
  uint32_t createRoom(int maxTalkers = -1);
  void setRoomMaxTalkers(uint32_t roomId, int maxTalkers);
  void closeRoom(uint32_t roomId);
  // Gains in dB, within [kMinGainDb, kMaxGainDb].
  void setGain(uint32_t legId, double inDb, double outDb);
  // Hold: the leg hears `music` looping (silence when empty) and not the
  // room, and never enters the mix, until unhold().
  void hold(uint32_t legId, std::vector<SoundPtr> music);
  void unhold(uint32_t legId);
  void setSending(uint32_t legId, bool sending);
  // Records the room's mix to `mixPath` (and, when `trackDirectory` is not
  // empty, each speaking leg to trackDirectory/leg-<id>.wav) at `sampleRate`
  // (8000 or 16000). Files are opened now: a bad path throws EIO. One
  // recording per room at a time (EBUSY). RecordingDone follows stop, the
  // room's closing, or an error.
  uint32_t startRecording(uint32_t roomId, const std::string& mixPath, const std::string& trackDirectory,
                          int sampleRate);
  // Idempotent; a no-op once the room is closed (that stopped it already).
  void stopRecording(uint32_t recordingId);

  static constexpr double kMinGainDb = -60;
  static constexpr double kMaxGainDb = 24;

  LegStatsSnapshot legStats(uint32_t legId) const;
  EngineStatsSnapshot stats() const;

  // Frees what workers handed back and appends user-visible events.
  void drainEvents(std::vector<UserEvent>& out);
  // Stops all threads and frees everything. Idempotent.
  void close();
  bool closed() const { return closed_; }

 private:
  struct LegHandle {
    Leg* leg = nullptr;
    int worker = 0;
    bool migrating = false;
    bool closing = false;  // closed while migrating; freed after replay
    bool opusGiven = false;  // the leg has Opus state (at most one is ever handed over)
    std::vector<Command> pending;  // held while migrating (Join resolved by roomId on replay)
  };
  struct RoomHandle {
    Room* room = nullptr;
    int worker = 0;
    uint32_t recordingId = 0;  // recording in progress, 0 if none
  };
  struct RecordingHandle {
    std::unique_ptr<Recorder> recorder;
    uint32_t roomId = 0;
    bool stopped = false;  // StopRecording / CloseRoom posted
  };

  void ensureOpen() const;
  LegHandle& legHandle(uint32_t legId);
  const LegHandle& legHandle(uint32_t legId) const;
  void post(int worker, const Command& c);
  void postLeg(LegHandle& h, const Command& c);
  // postLeg for a command that owns c.playback: freed if it cannot be posted.
  void postLegOwning(LegHandle& h, const Command& c);
  RoomHandle& roomHandle(uint32_t roomId);
  void doJoin(uint32_t legId, LegHandle& h, uint32_t roomId, bool speak, bool hear);
  void onDetached(uint32_t legId);
  // Binds an RTP socket on a free even port and, with `rtcp`, an RTCP
  // socket on the next port (both or neither). Returns the RTP fd.
  int openSocket(int& port, bool rtcp, int& rtcpFd);
  int bindUdp(int port);  // fd, or -errno
  void freeLeg(Leg* leg);
  void freeEventPayload(const Event& e);

  EngineConfig config_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<uint32_t> legsPerWorker_;
  std::vector<uint32_t> roomsPerWorker_;
  std::unique_ptr<Notifier> notifier_;
  std::unordered_map<uint32_t, LegHandle> legs_;
  std::unordered_map<uint32_t, RoomHandle> rooms_;
  std::unordered_map<uint32_t, RecordingHandle> recordings_;
  uint32_t nextRecordingId_ = 1;
  std::function<void()> wake_;  // also called by recorders' writer threads
  uint32_t nextLegId_ = 1;
  uint32_t nextRoomId_ = 1;
  uint32_t nextPlaybackId_ = 1;
  uint32_t nextDigitRequestId_ = 1;
  int nextPort_ = 0;
  std::mt19937 rng_;
  LegStatsSnapshot closedTotals_;  // counters of legs already freed
  bool closed_ = false;
};

}  // namespace media
