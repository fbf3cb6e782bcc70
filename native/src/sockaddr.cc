#include "sockaddr.h"

#include <arpa/inet.h>

namespace media {

int SockAddr::port() const {
  if (family() == AF_INET) return ntohs(u.v4.sin_port);
  if (family() == AF_INET6) return ntohs(u.v6.sin6_port);
  return 0;
}

bool SockAddr::sameIp(const SockAddr& o) const {
  if (family() != o.family()) {
    // An IPv4 peer seen on a dual-stack socket arrives as ::ffff:a.b.c.d.
    const SockAddr* v4 = family() == AF_INET ? this : (o.family() == AF_INET ? &o : nullptr);
    const SockAddr* v6 = family() == AF_INET6 ? this : (o.family() == AF_INET6 ? &o : nullptr);
    if (v4 == nullptr || v6 == nullptr) return false;
    if (!IN6_IS_ADDR_V4MAPPED(&v6->u.v6.sin6_addr)) return false;
    return std::memcmp(&v6->u.v6.sin6_addr.s6_addr[12], &v4->u.v4.sin_addr, 4) == 0;
  }
  if (family() == AF_INET) return u.v4.sin_addr.s_addr == o.u.v4.sin_addr.s_addr;
  if (family() == AF_INET6) return std::memcmp(&u.v6.sin6_addr, &o.u.v6.sin6_addr, 16) == 0;
  return false;
}

bool SockAddr::parse(const std::string& ip, int port, SockAddr& out) {
  out = none();
  if (port < 0 || port > 65535) return false;
  if (inet_pton(AF_INET, ip.c_str(), &out.u.v4.sin_addr) == 1) {
    out.u.v4.sin_family = AF_INET;
    out.u.v4.sin_port = htons(static_cast<uint16_t>(port));
    out.len = sizeof(sockaddr_in);
    return true;
  }
  if (inet_pton(AF_INET6, ip.c_str(), &out.u.v6.sin6_addr) == 1) {
    out.u.v6.sin6_family = AF_INET6;
    out.u.v6.sin6_port = htons(static_cast<uint16_t>(port));
    out.len = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

std::string SockAddr::ipString() const {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (family() == AF_INET) inet_ntop(AF_INET, &u.v4.sin_addr, buf, sizeof buf);
  if (family() == AF_INET6) inet_ntop(AF_INET6, &u.v6.sin6_addr, buf, sizeof buf);
  return buf;
}

}  // namespace media
