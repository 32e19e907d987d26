// The CLI's connection to a node's management API: one request per call, HTTP errors turned into
// cli::failure with the node's message and the matching exit code.
#pragma once

#include "exit_codes.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <string>

namespace perdure::cli {

struct reply {
  int status = 0;
  nlohmann::json body;  // null when the response has no body
  std::string continuation_token;  // x-ms-continuation-token, when present
};

class node_client {
 public:
  /// Throws failure(usage) when the endpoint is not an http://host[:port] URL with a port in
  /// 1-65535. A call that gets no answer within `timeout` fails with exit_code::timeout.
  node_client(const std::string& endpoint, std::chrono::milliseconds timeout);

  reply get(const std::string& target);
  reply post(const std::string& target, const std::string& json_body);
  reply put(const std::string& target, const std::string& json_body);
  reply del(const std::string& target);

 private:
  reply check(const httplib::Result& result, const std::string& method, const std::string& target);

  std::string endpoint_;
  std::chrono::milliseconds timeout_;
  httplib::Client http_;
};

}  // namespace perdure::cli
