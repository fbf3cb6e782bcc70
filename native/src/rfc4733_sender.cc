#include "rfc4733_sender.h"

namespace media {

namespace {
constexpr int kEndPackets = 3;
constexpr uint8_t kVolume = 10;  // -10 dBm0, as phones send
constexpr uint16_t kTickDuration = 160;
}  // namespace

int Rfc4733Sender::eventFor(char digit) {
  static const char kDigits[] = "0123456789*#ABCD";
  for (int i = 0; i < 16; i++) {
    if (kDigits[i] == digit) return i;
  }
  return -1;
}

void Rfc4733Sender::start(const DigitRequest& r, uint32_t& replaced) {
  replaced = active_ ? req_.id : 0;
  req_ = r;
  active_ = r.count > 0;
  index_ = 0;
  tickInKey_ = 0;
}

bool Rfc4733Sender::tick(uint32_t audioTimestamp, uint8_t* payload, uint32_t& timestamp, bool& marker,
                         bool& finished) {
  finished = false;
  if (!active_) return false;
  const int tone = req_.toneTicks;
  const int t = tickInKey_++;
  bool event = false;
  if (t < tone + kEndPackets) {
    if (t == 0) eventTimestamp_ = audioTimestamp;
    const bool end = t >= tone;
    const uint32_t dur = static_cast<uint32_t>(end ? tone : t + 1) * kTickDuration;
    payload[0] = static_cast<uint8_t>(eventFor(req_.digits[index_]));
    payload[1] = static_cast<uint8_t>((end ? 0x80 : 0) | kVolume);
    payload[2] = static_cast<uint8_t>(dur >> 8);
    payload[3] = static_cast<uint8_t>(dur);
    timestamp = eventTimestamp_;
    marker = t == 0;
    event = true;
  }
  // The last key has no gap after it: the request is done once its end
  // packets are out.
  const bool last = index_ + 1 >= req_.count;
  if (tickInKey_ >= tone + kEndPackets + (last ? 0 : req_.gapTicks)) {
    tickInKey_ = 0;
    if (++index_ >= req_.count) {
      active_ = false;
      finished = true;
    }
  }
  return event;
}

}  // namespace media
