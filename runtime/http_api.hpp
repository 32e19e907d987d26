// The management API: HTTP/JSON on top of a client (see docs/http-api.md).
//
// Operation: an asynchronous HTTP/1.1 server (http_server.hpp) whose workers translate every
// request into one client call. A request that waits for its instance to end (waitForCompletion)
// leaves its worker at once: the partition's callback answers it later (http_waits.hpp). Bad input (malformed JSON, oversized bodies, unknown routes or
// instances, invalid ids) is answered with a 4xx and a JSON error body; an internal failure with
// a 5xx, logged; an unreachable owner node with a 503 and Retry-After.
#pragma once

#include "api_tokens.hpp"
#include "http_server.hpp"

#include "actors/cluster_metrics.hpp"
#include "actors/metrics.hpp"

#include <perdure/client.hpp>
#include <perdure/registry.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace perdure::actors {
class cluster_view;
}

namespace perdure {

class cluster_control;

struct http_api_options {
  size_t max_body_bytes = 8u << 20;
  /// Lists the instances this node holds (its own partitions), for /metrics: a node reports its
  /// own instances, and keeps reporting while another node is down.
  std::function<instance_page(const instance_query&)> list_local;
  const actors::cluster_metrics* cluster = nullptr;  // a cluster node's networking counters, if any
  /// A cluster node's view of its hub (its members; owner, epoch, followers and move of each
  /// partition), for /api/cluster and the per-partition metrics; null on a single node.
  std::shared_ptr<const actors::cluster_view> view;
  bool replicated = false;  // the hub keeps its partitions' logs on NATS JetStream (--nats)
  cluster_control* control = nullptr;  // drain, remove and move, in a replicated hub; else null
  /// Requests that may wait for an instance to end at once (waitForCompletion); past it, 503.
  size_t max_waiters = 10'000;
  /// Connections held at once, idle keep-alive ones included; past it, 503 and closed.
  size_t max_connections = 10'000;
  /// More /metrics lines from the node's other services (the queue triggers); may be empty.
  std::function<std::string()> more_metrics;
  /// Bearer tokens every request but health and /ui must present (runtime/http_access.hpp); none:
  /// the API is open to whoever reaches it.
  std::optional<api_tokens> tokens;
  /// HTTPS with this certificate and key; none: plain HTTP.
  std::optional<http::tls_files> tls;
  /// The node's registered code, which GET /api/replay-check replays histories against.
  const registry* functions = nullptr;
};

class http_api {
 public:
  http_api(client& hub, const actors::node_metrics& metrics, http_api_options options);
  ~http_api();
  http_api(const http_api&) = delete;
  http_api& operator=(const http_api&) = delete;

  /// Binds and starts serving; returns the bound port (useful with port 0). Throws perdure::error
  /// when the address cannot be bound, invalid_argument_error when the TLS files cannot be loaded.
  int start(const std::string& address, int port);
  /// Stops serving and joins the server threads; idempotent.
  void stop();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace perdure
