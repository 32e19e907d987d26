// A TLS connection to a node's HTTPS port made by hand with OpenSSL, for what an HTTP client
// library will not do: pipeline requests in separate TLS records, trickle a header, leave in the
// middle of a long-poll.
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <csignal>
#include <stdexcept>
#include <string>
#include <string_view>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace perdure::cli_test {

class tls_socket {
 public:
  /// Connects to 127.0.0.1:port and completes the handshake, trusting the CA in `ca_file`.
  tls_socket(int port, const std::string& ca_file)
      : context_(SSL_CTX_new(TLS_client_method())), fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    if (!context_ || fd_ < 0) throw std::runtime_error("cannot create a TLS client");
    // OpenSSL writes with write(): a write to a connection the node closed must fail, not kill the test.
    std::signal(SIGPIPE, SIG_IGN);
    if (SSL_CTX_load_verify_locations(context_, ca_file.c_str(), nullptr) != 1)
      throw std::runtime_error("cannot load " + ca_file);
    SSL_CTX_set_verify(context_, SSL_VERIFY_PEER, nullptr);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
      throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(port));
    ssl_ = SSL_new(context_);
    SSL_set_fd(ssl_, fd_);
    if (SSL_connect(ssl_) != 1) throw std::runtime_error("TLS handshake with 127.0.0.1:" + std::to_string(port) + " failed");
  }
  ~tls_socket() {
    SSL_free(ssl_);
    ::close(fd_);
    SSL_CTX_free(context_);
  }
  tls_socket(const tls_socket&) = delete;
  tls_socket& operator=(const tls_socket&) = delete;

  /// One TLS record per call (up to 16 KiB). False once the peer has closed the connection.
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const int n = SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()));
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  /// What arrives until the peer closes the connection or `timeout` passes.
  std::string read_until_closed(std::chrono::milliseconds timeout) {
    std::string got;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return got;
      pollfd p{fd_, POLLIN, 0};
      if (SSL_pending(ssl_) == 0 && ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return got;
      char buffer[4096];
      const int n = SSL_read(ssl_, buffer, sizeof buffer);
      if (n <= 0) {
        closed_ = true;
        return got;
      }
      got.append(buffer, static_cast<size_t>(n));
    }
  }

  bool closed_by_peer() const noexcept { return closed_; }

  /// Leaves as a client that closes properly: close_notify, then the TCP connection.
  void close() {
    SSL_shutdown(ssl_);
    ::shutdown(fd_, SHUT_RDWR);
  }

 private:
  SSL_CTX* context_;
  int fd_;
  SSL* ssl_ = nullptr;
  bool closed_ = false;
};

}  // namespace perdure::cli_test
