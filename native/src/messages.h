// Fixed-size POD messages between the JS thread and mixer workers.
// Commands: JS thread -> worker (SPSC ring per worker, JS is the producer).
// Events:   worker -> JS thread (SPSC ring per worker, worker is the producer).
// Pointers in commands hand ownership to the worker; pointers in events hand
// it back to the JS thread, which frees them. Workers never allocate or free.
#pragma once

#include <cstdint>

#include "rfc4733_sender.h"
#include "sockaddr.h"

namespace media {

class Leg;
struct Room;
struct Playback;
class Recorder;
class OpusCodec;

enum class CmdType : uint8_t {
  AttachLeg,     // leg: start serving it (register socket)
  DetachLeg,     // leg: stop serving, hand back (LegDetached) for migration
  CloseLeg,      // leg: stop serving, hand back (LegClosed) to be freed
  SetRemote,     // leg, addr
  Play,          // leg, playback, flag = queue (else replaces the current one and the queue)
  StopPlayback,  // leg
  Join,          // leg, room, speak, hear (leaves any current room)
  Update,        // leg, speak, hear
  Leave,         // leg
  AddRoom,       // room
  CloseRoom,     // room: members return to the lobby; RoomClosed hands it back
  SetGain,       // leg, gainIn, gainOut (linear factors)
  Hold,          // leg, playback (looping music; may be null = silence); replaces any hold
  Unhold,        // leg
  SetSending,    // leg, flag
  SetRoomConfig, // room, value = maxTalkers
  SendDigits,    // leg, digits (RFC 4733 events; replaces a request in progress)
  StartRecording,  // room, recorder (the JS thread keeps ownership)
  StopRecording,   // room, recorder: recorder->finish(), never touched again
  SetWhisper,      // leg, whisper (targets; count 0 = heard by the room again)
  PlayRoom,        // room, playback, flag = queue: an announcement the whole room hears
  StopRoomPlayback,  // room
  SetCodec,          // leg, value = codec | payloadType << 8, opus (state to adopt, may be null)
};

constexpr int kMaxWhisperTargets = 16;
struct WhisperTargets {
  uint32_t legIds[kMaxWhisperTargets];
  uint8_t count;
};

struct Command {
  CmdType type;
  bool speak;
  bool hear;
  bool flag;
  uint32_t roomId;  // Join: resolved again when replayed after a migration
  uint32_t value;
  float gainIn;
  float gainOut;
  Leg* leg;
  Room* room;
  Playback* playback;
  Recorder* recorder;
  OpusCodec* opus;
  SockAddr addr;
  DigitRequest digits;
  WhisperTargets whisper;
};

enum class EventType : uint8_t {
  Dtmf,          // legId, digit, dtmfSource, durationMs
  PlaybackDone,  // legId, playbackId, interrupted, playback (to free)
  RtpTimeout,    // legId
  LegDetached,   // leg (now owned by the JS thread until re-attached)
  LegClosed,     // leg (to free)
  RoomClosed,    // room (to free)
  Talking,       // legId, talking (start/stop), energy (dBFS)
  FreePlayback,  // playback (to free; no user-visible event): replaced/ended hold music
  DigitsSent,    // legId, requestId, interrupted (replaced by a newer request)
};

enum class DtmfSource : uint8_t { Rfc4733 = 0, Inband = 1 };

struct Event {
  EventType type;
  char digit;
  DtmfSource dtmfSource;
  bool interrupted;
  bool talking;
  uint32_t legId;
  uint32_t playbackId;
  uint32_t roomId;     // PlaybackDone of a room's announcement (legId 0)
  uint32_t requestId;
  uint32_t durationMs;
  float energy;
  Leg* leg;
  Room* room;
  Playback* playback;
};

// Events that hand an object back to the JS thread. They must never be lost:
// the event ring keeps a reserve for them, and beyond that the worker queues
// them on an intrusive FIFO whose nodes live inside the objects themselves
// (each object has at most one such event outstanding), so no allocation.
inline bool carriesOwnership(EventType t) {
  return t == EventType::PlaybackDone || t == EventType::LegDetached || t == EventType::LegClosed ||
         t == EventType::RoomClosed || t == EventType::FreePlayback;
}

struct OwnedEventNode {
  Event event;
  OwnedEventNode* next;
};

// Where worker-side code reports events (the worker's ring, or a test).
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void emit(const Event& e) = 0;
};

}  // namespace media
