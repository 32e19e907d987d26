// Ports for nodes that tests and benchmarks start on 127.0.0.1.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <random>

namespace perdure::testing_support {

/// Calls `use(fd, address)` with a new TCP socket and the address 127.0.0.1:port, closes the socket
/// and returns what `use` returned (false when no socket could be made).
template <class Use>
bool with_loopback_socket(uint16_t port, Use use) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool result = use(fd, reinterpret_cast<const sockaddr*>(&address), socklen_t{sizeof address});
  ::close(fd);
  return result;
}

/// True if every port in [first, first + count) can be bound on 127.0.0.1 right now.
inline bool ports_free(uint16_t first, uint16_t count) {
  for (uint16_t port = first; port < first + count; ++port)
    if (!with_loopback_socket(port, [](int fd, const sockaddr* a, socklen_t n) { return ::bind(fd, a, n) == 0; }))
      return false;
  return true;
}

/// True if something accepts TCP connections on 127.0.0.1:port.
inline bool accepts_connections(uint16_t port) {
  return with_loopback_socket(port, [](int fd, const sockaddr* a, socklen_t n) { return ::connect(fd, a, n) == 0; });
}

/// A random first port of `count` free ones, below Linux's ephemeral range (32768 and up): a port
/// there can be taken by any outgoing connection meanwhile, and a node that connects to a member
/// that is down can even get a TCP connection to itself (the kernel picks the member's port as the
/// source port).
inline uint16_t free_base_port(uint16_t count) {
  std::random_device random;
  for (;;) {
    const auto first = static_cast<uint16_t>(20000 + random() % (32768 - 20000 - count));
    if (ports_free(first, count)) return first;
  }
}

}  // namespace perdure::testing_support
