#include "rtp.h"

namespace media {

RtpParse parseRtp(const uint8_t* buf, size_t len, RtpPacket& out) {
  if (buf == nullptr || len < kRtpHeaderSize) return RtpParse::TooShort;
  const uint8_t b0 = buf[0];
  if ((b0 >> 6) != 2) return RtpParse::BadVersion;
  const bool padding = (b0 & 0x20) != 0;
  const bool extension = (b0 & 0x10) != 0;
  const size_t cc = b0 & 0x0F;
  size_t offset = kRtpHeaderSize + 4 * cc;
  if (offset > len) return RtpParse::CsrcOverrun;
  if (extension) {
    if (offset + 4 > len) return RtpParse::ExtensionOverrun;
    const size_t words = (static_cast<size_t>(buf[offset + 2]) << 8) | buf[offset + 3];
    offset += 4 + 4 * words;
    if (offset > len) return RtpParse::ExtensionOverrun;
  }
  size_t end = len;
  if (padding) {
    const size_t pad = buf[len - 1];
    if (pad == 0 || pad > len - offset) return RtpParse::BadPadding;
    end -= pad;
  }
  out.marker = (buf[1] & 0x80) != 0;
  out.payloadType = buf[1] & 0x7F;
  out.seq = static_cast<uint16_t>((buf[2] << 8) | buf[3]);
  out.timestamp = (static_cast<uint32_t>(buf[4]) << 24) | (static_cast<uint32_t>(buf[5]) << 16) |
                  (static_cast<uint32_t>(buf[6]) << 8) | buf[7];
  out.ssrc = (static_cast<uint32_t>(buf[8]) << 24) | (static_cast<uint32_t>(buf[9]) << 16) |
             (static_cast<uint32_t>(buf[10]) << 8) | buf[11];
  out.payload = buf + offset;
  out.payloadSize = end - offset;
  return RtpParse::Ok;
}

size_t writeRtpHeader(uint8_t* buf, bool marker, uint8_t payloadType, uint16_t seq,
                      uint32_t timestamp, uint32_t ssrc) {
  buf[0] = 0x80;
  buf[1] = static_cast<uint8_t>((marker ? 0x80 : 0) | (payloadType & 0x7F));
  buf[2] = static_cast<uint8_t>(seq >> 8);
  buf[3] = static_cast<uint8_t>(seq);
  buf[4] = static_cast<uint8_t>(timestamp >> 24);
  buf[5] = static_cast<uint8_t>(timestamp >> 16);
  buf[6] = static_cast<uint8_t>(timestamp >> 8);
  buf[7] = static_cast<uint8_t>(timestamp);
  buf[8] = static_cast<uint8_t>(ssrc >> 24);
  buf[9] = static_cast<uint8_t>(ssrc >> 16);
  buf[10] = static_cast<uint8_t>(ssrc >> 8);
  buf[11] = static_cast<uint8_t>(ssrc);
  return kRtpHeaderSize;
}

}  // namespace media
