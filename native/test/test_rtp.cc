#include <cstring>
#include <random>
#include <vector>

#include "harness.h"
#include "rtp.h"

using namespace media;

namespace {
std::vector<uint8_t> packet(size_t payload = 160) {
  std::vector<uint8_t> p(12 + payload, 0xAB);
  writeRtpHeader(p.data(), true, 0, 0x1234, 0xDEADBEEF, 0xCAFEBABE);
  return p;
}
}  // namespace

TEST(rtp_parse_valid) {
  auto p = packet();
  RtpPacket r;
  CHECK(parseRtp(p.data(), p.size(), r) == RtpParse::Ok);
  CHECK(r.marker);
  CHECK_EQ(r.payloadType, 0);
  CHECK_EQ(r.seq, 0x1234);
  CHECK_EQ(r.timestamp, 0xDEADBEEFu);
  CHECK_EQ(r.ssrc, 0xCAFEBABEu);
  CHECK_EQ(r.payloadSize, 160u);
  CHECK(r.payload == p.data() + 12);
}

TEST(rtp_parse_csrc_extension_padding) {
  // 2 CSRCs, a 1-word extension, 3 bytes of padding.
  std::vector<uint8_t> p(12 + 8 + 4 + 4 + 10 + 3, 0);
  writeRtpHeader(p.data(), false, 8, 1, 2, 3);
  p[0] = 0x80 | 0x20 | 0x10 | 2;
  p[12 + 8 + 2] = 0;
  p[12 + 8 + 3] = 1;
  p.back() = 3;
  RtpPacket r;
  CHECK(parseRtp(p.data(), p.size(), r) == RtpParse::Ok);
  CHECK_EQ(r.payloadSize, 10u);
  CHECK(r.payload == p.data() + 12 + 8 + 8);
}

TEST(rtp_parse_malformed) {
  RtpPacket r;
  auto p = packet();
  CHECK(parseRtp(p.data(), 11, r) == RtpParse::TooShort);
  CHECK(parseRtp(nullptr, 0, r) == RtpParse::TooShort);
  auto v1 = p;
  v1[0] = 0x40;
  CHECK(parseRtp(v1.data(), v1.size(), r) == RtpParse::BadVersion);
  auto v0 = p;
  v0[0] = 0x00;
  CHECK(parseRtp(v0.data(), v0.size(), r) == RtpParse::BadVersion);
  // CC = 15 needs 60 bytes of CSRC
  std::vector<uint8_t> cc(12 + 20, 0);
  writeRtpHeader(cc.data(), false, 0, 0, 0, 0);
  cc[0] = 0x8F;
  CHECK(parseRtp(cc.data(), cc.size(), r) == RtpParse::CsrcOverrun);
  // Extension header itself missing
  std::vector<uint8_t> ext(14, 0);
  writeRtpHeader(ext.data(), false, 0, 0, 0, 0);
  ext[0] = 0x90;
  CHECK(parseRtp(ext.data(), ext.size(), r) == RtpParse::ExtensionOverrun);
  // Huge extension length
  std::vector<uint8_t> ext2(12 + 4 + 16, 0);
  writeRtpHeader(ext2.data(), false, 0, 0, 0, 0);
  ext2[0] = 0x90;
  ext2[14] = 0xFF;
  ext2[15] = 0xFF;
  CHECK(parseRtp(ext2.data(), ext2.size(), r) == RtpParse::ExtensionOverrun);
  // Padding count 0, and larger than the payload
  auto pad0 = packet(10);
  pad0[0] |= 0x20;
  pad0.back() = 0;
  CHECK(parseRtp(pad0.data(), pad0.size(), r) == RtpParse::BadPadding);
  auto padBig = packet(10);
  padBig[0] |= 0x20;
  padBig.back() = 11;
  CHECK(parseRtp(padBig.data(), padBig.size(), r) == RtpParse::BadPadding);
  // Padding that exactly consumes the payload is fine
  auto padAll = packet(10);
  padAll[0] |= 0x20;
  padAll.back() = 10;
  CHECK(parseRtp(padAll.data(), padAll.size(), r) == RtpParse::Ok);
  CHECK_EQ(r.payloadSize, 0u);
  // Header-only packet with padding bit: pad byte is part of the header
  std::vector<uint8_t> hdr(12, 0);
  writeRtpHeader(hdr.data(), false, 0, 0, 0, 0x01);
  hdr[0] |= 0x20;
  CHECK(parseRtp(hdr.data(), hdr.size(), r) == RtpParse::BadPadding);
}

TEST(rtp_parse_fuzz_never_overruns) {
  std::mt19937 rng(42);
  std::vector<uint8_t> buf(256);
  int ok = 0;
  for (int i = 0; i < 200000; i++) {
    const size_t len = rng() % buf.size();
    for (size_t k = 0; k < len; k++) buf[k] = static_cast<uint8_t>(rng());
    if (len > 0 && (rng() & 1)) buf[0] = static_cast<uint8_t>(0x80 | (buf[0] & 0x3F));
    RtpPacket r;
    if (parseRtp(buf.data(), len, r) == RtpParse::Ok) {
      ok++;
      CHECK(r.payload >= buf.data() + 12);
      CHECK(r.payload + r.payloadSize <= buf.data() + len);
    }
  }
  CHECK(ok > 0);
}

TEST(rtp_seq_diff_wraps) {
  CHECK_EQ(seqDiff(1, 65535), 2);
  CHECK_EQ(seqDiff(65535, 1), -2);
  CHECK_EQ(seqDiff(100, 100), 0);
}
