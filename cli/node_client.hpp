// The CLI's connection to a node's management API: one request per call, HTTP errors turned into
// cli::failure with the node's message and the matching exit code.
#pragma once

#include "exit_codes.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <string>

namespace perdure::cli {

struct reply {
  int status = 0;
  nlohmann::json body;  // null when the response has no body
  std::string continuation_token;  // x-ms-continuation-token, when present
};

class node_client {
 public:
  /// Throws failure(usage) when the endpoint is not an http://host:port URL.
  explicit node_client(const std::string& endpoint);

  reply get(const std::string& target);
  reply post(const std::string& target, const std::string& json_body);
  reply del(const std::string& target);

 private:
  reply check(const httplib::Result& result, const std::string& method, const std::string& target);

  std::string endpoint_;
  httplib::Client http_;
};

}  // namespace perdure::cli
