// The management API: HTTP/JSON on top of a client (see docs/http-api.md).
//
// Operation: a cpp-httplib server on its own threads; every request is translated into one client
// call. Bad input (malformed JSON, oversized bodies, unknown routes or instances, invalid ids) is
// answered with a 4xx and a JSON error body; an internal failure with a 5xx, logged.
#pragma once

#include "../actors/metrics.hpp"

#include <perdure/client.hpp>

#include <memory>
#include <string>

namespace perdure {

struct http_api_options {
  size_t max_body_bytes = 8u << 20;
};

class http_api {
 public:
  http_api(client& hub, const actors::node_metrics& metrics, http_api_options options);
  ~http_api();
  http_api(const http_api&) = delete;
  http_api& operator=(const http_api&) = delete;

  /// Binds and starts serving; returns the bound port (useful with port 0). Throws perdure::error
  /// when the address cannot be bound.
  int start(const std::string& address, int port);
  /// Stops serving and joins the server threads; idempotent.
  void stop();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace perdure
