// POD socket address (IPv4 or IPv6) that can travel through the command ring.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <string>

namespace media {

struct SockAddr {
  union {
    sockaddr sa;
    sockaddr_in v4;
    sockaddr_in6 v6;
  } u;
  socklen_t len;

  bool valid() const { return len != 0; }
  int family() const { return u.sa.sa_family; }
  int port() const;
  // Same IP address, any port (RFC 4733 may come from another port).
  bool sameIp(const SockAddr& o) const;

  static SockAddr none() {
    SockAddr a;
    std::memset(&a, 0, sizeof a);
    return a;
  }
  // Parses a numeric IPv4/IPv6 address; returns false if invalid.
  static bool parse(const std::string& ip, int port, SockAddr& out);
  std::string ipString() const;
};

}  // namespace media
