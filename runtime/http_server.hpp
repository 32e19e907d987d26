// The HTTP/1.1 transport of the management API (Boost.Beast on Asio), plain or over TLS: accepts
// connections, reads requests within limits and deadlines, runs a handler on a bounded worker pool
// and writes its response. It knows nothing of Perdure's routes or tokens; runtime/http_api.cpp
// routes on its requests and gives it the gate that checks a request's head (http_access.hpp).
//
// Why asynchronous: a thread per connection (cpp-httplib) lets a few slow or idle clients take
// every thread (see docs/architecture.md). Here one I/O thread holds every connection, and only
// requests that are complete reach the workers, which may block (the client API is synchronous).
// A handler may also answer later through its responder (a long-poll answered by a callback when
// an instance ends): the connection then waits without a thread.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace perdure::http {

struct request {
  std::string method;
  std::string path;                   // as sent, still percent-encoded, without the query
  std::vector<std::string> segments;  // the path split at '/', each segment percent-decoded
  std::map<std::string, std::string, std::less<>> params;  // decoded query; the first of a repeated name
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  bool has_param(std::string_view name) const { return params.find(name) != params.end(); }
  /// The decoded value, or "" when absent.
  std::string param(std::string_view name) const;
  /// The first header of that name (case-insensitive), or "" when absent.
  std::string header(std::string_view name) const;
};

struct response {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

/// The answer to one request, given once, from any thread. A handler answers through it at once,
/// or hands it to a callback that answers later, so that a request that waits holds no thread.
/// Copies share the one answer.
class responder {
 public:
  struct state;  // defined with the connections in the .cpp
  explicit responder(std::shared_ptr<state> shared) : state_(std::move(shared)) {}

  /// Sends `res`. The first answer wins; later ones, and any after the client left or the server
  /// stopped, are dropped. Never blocks.
  void send(response res) const;
  /// Runs `make` on a worker (where it may block, e.g. on the client) and sends what it returns,
  /// or 503 Busy when the workers' queue is full. Never blocks. Counts as the answer.
  void send_from_worker(std::function<response()> make) const;
  /// Runs `abandoned` once, on the I/O thread, if the connection closes before an answer (the
  /// client left, the server stops), or at once if it already has: to give up what the answer
  /// waits for. Dropped once an answer is given.
  void on_abandoned(std::function<void()> abandoned) const;

 private:
  std::shared_ptr<state> state_;
};

/// PEM files of a server certificate (its chain, leaf first) and its unencrypted private key.
struct tls_files {
  std::filesystem::path certificate_chain;
  std::filesystem::path private_key;
};

struct server_options {
  size_t body_limit = 8u << 20;  // enforced while reading, for every transfer encoding
  size_t header_limit = 16u << 10;
  std::chrono::milliseconds head_timeout{10'000};  // the whole request line and headers
  std::chrono::milliseconds body_timeout{60'000};  // the whole body
  std::chrono::milliseconds idle_timeout{60'000};  // a keep-alive connection between requests
  std::chrono::milliseconds write_timeout{30'000};
  size_t max_connections = 10'000;  // past it, a new connection is answered 503 and closed
  size_t workers = 32;              // threads running handlers
  size_t queue_limit = 4096;        // requests waiting for a worker; past it, 503 with Retry-After
  std::chrono::seconds retry_after{1};
  /// HTTPS: a connection starts with a TLS handshake, which must end within head_timeout; a client
  /// that sends plain HTTP instead gets a plain-HTTP 400 and the connection closes. The limits and
  /// deadlines above apply to TLS connections as they are. nullopt: plain HTTP.
  std::optional<tls_files> tls;
  /// Decides from a request's head alone, before its body is read, whether the request is refused
  /// (e.g. it lacks credentials): the refusal is sent and the connection closes. Empty: none is.
  std::function<std::optional<response>(const request& head)> refuse_head;
};

class server {
 public:
  using handler = std::function<response(const request&)>;
  /// A handler that may answer later: it gets the request's responder and returns, and the worker
  /// is free. Until the answer, the connection is watched, so that a client that closes it is
  /// noticed (responder::on_abandoned).
  using deferring_handler = std::function<void(const request&, responder)>;
  /// Says whether a request is cheap (e.g. health): cheap requests run on a worker of their own,
  /// so they are answered while every other worker is busy.
  using cheap_test = std::function<bool(const request&)>;
  /// Answers the transport's own refusals (bad request, body too large, busy): status, a stable
  /// code and a message, as a response with the same JSON error shape the handler uses.
  using error_writer = std::function<response(int status, const std::string& code, const std::string& message)>;

  /// Throws perdure::invalid_argument_error when options.tls names files that cannot be loaded.
  server(server_options options, handler handle, cheap_test is_cheap, error_writer write_error);
  server(server_options options, deferring_handler handle, cheap_test is_cheap, error_writer write_error);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Binds and listens (backlog SOMAXCONN); returns the bound port (useful with port 0). Throws
  /// perdure::listen_error naming the address and port when they cannot be bound (e.g. the port is
  /// taken). Connections wait in the backlog until serve().
  int listen(const std::string& address, int port);
  /// Starts the I/O thread and the workers.
  void serve();
  /// Closes the listener and every connection, waits for the handlers under way and joins every
  /// thread; idempotent.
  void stop();

  struct impl;  // named here so that the connections, defined with it in the .cpp, can refer to it

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace perdure::http
