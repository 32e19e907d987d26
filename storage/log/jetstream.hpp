// A connection to a NATS JetStream cluster (libnats), shared by every partition log and the
// assignment table of a node. The C client reconnects by itself; calls made while it does fail
// with a transient status, which the callers retry until their deadline.
#pragma once

#include <perdure/nats_access.hpp>

#include <nats/nats.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace perdure::storage {

struct jetstream_options {
  std::vector<std::string> servers;  // nats://host:port
  std::string name = "perdure";      // the connection's name in the servers' monitoring
  nats_access access;                // TLS and credentials (none: plain TCP, no authentication)
  std::chrono::milliseconds request_timeout{2000};  // one JetStream request
  // How long an operation keeps retrying transient failures: longer than a stream-leader election
  // (4-9 s measured with nats-server 2.9.10) and shorter than the streams' duplicate window (2 min),
  // so a retried append is still recognized.
  std::chrono::milliseconds deadline{30000};
};

class jetstream_connection {
 public:
  /// Connects (trying every server); throws store_error(errc::unavailable) naming the servers and,
  /// when they refused TLS or credentials, what to pass; errc::invalid_argument for an unusable
  /// `access` (two kinds of credentials, a certificate without its key, a file that cannot be read).
  explicit jetstream_connection(jetstream_options options);
  ~jetstream_connection();
  jetstream_connection(const jetstream_connection&) = delete;
  jetstream_connection& operator=(const jetstream_connection&) = delete;

  jsCtx* context() const noexcept { return js_; }
  natsConnection* connection() const noexcept { return connection_; }
  const jetstream_options& options() const noexcept { return options_; }

 private:
  void release() noexcept;
  natsStatus connect_signing_around_libnats_bug();

  jetstream_options options_;
  natsOptions* nats_options_ = nullptr;
  natsConnection* connection_ = nullptr;
  jsCtx* js_ = nullptr;
};

/// Whether a failed JetStream call may succeed when retried (a leader election, a reconnect).
bool transient(natsStatus status, jsErrCode code) noexcept;

/// "what: <status text> (JetStream error <code>)" for error messages.
std::string describe(std::string_view what, natsStatus status, jsErrCode code);

/// Throws store_error: errc::unavailable for a transient failure (the deadline passed), else
/// errc::io_error; the message says what failed and how.
[[noreturn]] void fail_jetstream(natsStatus status, jsErrCode code, const std::string& what);

/// Retries `attempt` (which returns a natsStatus and may set `code`) while it fails transiently and
/// the connection's deadline has not passed, backing off from 25 ms to 500 ms; returns the last
/// status.
template <class Attempt>
natsStatus retry_transient(const jetstream_connection& connection, jsErrCode& code, Attempt attempt) {
  const auto deadline = std::chrono::steady_clock::now() + connection.options().deadline;
  auto pause = std::chrono::milliseconds{25};
  for (;;) {
    code = jsErrCode{};
    const natsStatus s = attempt();
    if (s == NATS_OK || !transient(s, code) || std::chrono::steady_clock::now() + pause >= deadline) return s;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds{500});
  }
}

/// Opens the key-value bucket `bucket` (history 1), creating it with `replicas` replicas and entries
/// that expire after `ttl` (0: never) when it does not exist; one that exists with another
/// configuration is used as it is. Nodes that start together race to create it: a creation refused
/// because another one is in flight is retried until the connection's deadline. Throws
/// store_error naming `what`.
kvStore* open_bucket(const jetstream_connection& connection, const std::string& bucket, int replicas,
                     std::chrono::nanoseconds ttl, const std::string& what);

/// Creates the stream `config` describes unless one of that name exists (which is used as it is).
/// A fresh cluster elects its meta leader during its first seconds: creation is retried.
void ensure_stream(const jetstream_connection& connection, jsStreamConfig& config, const std::string& what);

/// The largest message the connection's servers take (their max_payload, 1 MiB unless
/// configured), less room for its headers.
size_t max_message_bytes(const jetstream_connection& connection);

/// Names of streams, subjects and buckets allow letters, digits, '-' and '_' only; throws
/// store_error(errc::invalid_argument) otherwise.
void require_plain_name(std::string_view what, std::string_view name);

}  // namespace perdure::storage
