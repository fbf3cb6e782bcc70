// Worker event delivery: notifications may be dropped when the JS thread
// stalls, ownership-carrying events never are (reserve + intrusive FIFO);
// the tick lateness histogram.
#include <vector>

#include "harness.h"
#include "leg.h"
#include "room.h"
#include "worker.h"

using namespace media;

TEST(events_ownership_never_dropped_when_ring_full) {
  Worker w(0, 0);  // not started: this thread plays the worker and the JS side
  Event dtmf{};
  dtmf.type = EventType::Dtmf;
  dtmf.digit = '5';
  for (size_t i = 0; i < Worker::kEventRing + 100; i++) w.emit(dtmf);
  const uint64_t dropped = w.eventsDropped.load();
  CHECK_EQ(dropped, Worker::kOwnedReserve + 100);
  // The reserve takes these...
  std::vector<Playback*> playbacks;
  std::vector<Leg*> legs;
  std::vector<Room*> rooms;
  for (size_t i = 0; i < Worker::kOwnedReserve + 50; i++) {
    Event e{};
    if (i % 3 == 0) {
      playbacks.push_back(new Playback());
      playbacks.back()->id = static_cast<uint32_t>(i);
      e.type = EventType::PlaybackDone;
      e.playbackId = static_cast<uint32_t>(i);
      e.playback = playbacks.back();
    } else if (i % 3 == 1) {
      LegConfig c;
      c.id = static_cast<uint32_t>(i);
      legs.push_back(new Leg(c, -1));
      e.type = EventType::LegClosed;
      e.legId = c.id;
      e.leg = legs.back();
    } else {
      rooms.push_back(new Room());
      e.type = EventType::RoomClosed;
      e.room = rooms.back();
    }
    w.emit(e);
  }
  // ...and the 50 beyond it wait in the FIFO; more notifications are dropped.
  CHECK_EQ(w.eventsDeferred.load(), 50u);
  w.emit(dtmf);
  CHECK_EQ(w.eventsDropped.load(), dropped + 1);
  CHECK(!w.flushOwned());  // still no room
  // The JS side drains: every ownership event arrives, in order.
  Event e;
  std::vector<Event> owned;
  size_t notifications = 0;
  while (w.popEvent(e)) {
    if (carriesOwnership(e.type)) owned.push_back(e);
    else notifications++;
  }
  CHECK_EQ(notifications, Worker::kEventRing - Worker::kOwnedReserve);
  CHECK(w.flushOwned());  // room again: the deferred ones go in
  while (w.popEvent(e)) owned.push_back(e);
  CHECK_EQ(owned.size(), Worker::kOwnedReserve + 50);
  size_t p = 0, l = 0, r = 0;
  for (size_t i = 0; i < owned.size(); i++) {
    const Event& o = owned[i];
    if (i % 3 == 0) {
      CHECK(o.type == EventType::PlaybackDone && o.playback == playbacks[p++]);
      CHECK_EQ(o.playbackId, static_cast<uint32_t>(i));
    } else if (i % 3 == 1) {
      CHECK(o.type == EventType::LegClosed && o.leg == legs[l++]);
    } else {
      CHECK(o.type == EventType::RoomClosed && o.room == rooms[r++]);
    }
  }
  CHECK(!w.takeDeferred(e));
  for (Playback* x : playbacks) delete x;
  for (Leg* x : legs) delete x;
  for (Room* x : rooms) delete x;
}

TEST(events_lateness_histogram_buckets) {
  Worker w(0, 0);
  w.recordLateness(-5000);   // early wake-up counts as on time
  w.recordLateness(50000);   // 50 us
  w.recordLateness(150000);  // 150 us
  w.recordLateness(19999999);
  w.recordLateness(20000000);  // 20 ms: overflow
  w.recordLateness(900000000);
  CHECK_EQ(w.tickLateness[0].load(), 2u);
  CHECK_EQ(w.tickLateness[1].load(), 1u);
  CHECK_EQ(w.tickLateness[199].load(), 1u);
  CHECK_EQ(w.tickLateness[Worker::kLatenessBuckets].load(), 2u);
}
