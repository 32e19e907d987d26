// The CLI's connection to a node's management API: one request per call, HTTP errors turned into
// cli::failure with the node's message and the matching exit code.
#pragma once

#include "exit_codes.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <string>

namespace perdure::cli {

/// Where the node's management API is and what the CLI shows it.
struct node_address {
  std::string endpoint;  // http://HOST:PORT or https://HOST:PORT
  std::string token;     // sent as `Authorization: Bearer`; empty: none
  std::string ca_file;   // PEM certificates of the CAs an https:// node's certificate may chain to; empty: the system's
};

struct reply {
  int status = 0;
  nlohmann::json body;  // null when the response has no body
  std::string continuation_token;  // x-ms-continuation-token, when present
};

class node_client {
 public:
  /// Throws failure(usage) when the endpoint is not an http(s)://host[:port] URL with a port in
  /// 1-65535, or a CA file is given for http:// or cannot be read. A call that gets no answer
  /// within `timeout` fails with exit_code::timeout; one the node refuses for want of the right
  /// token with exit_code::denied.
  node_client(const node_address& node, std::chrono::milliseconds timeout);

  reply get(const std::string& target);
  reply post(const std::string& target, const std::string& json_body, const httplib::Headers& headers = {});
  reply put(const std::string& target, const std::string& json_body);
  reply del(const std::string& target);

 private:
  reply check(const httplib::Result& result, const std::string& method, const std::string& target);

  std::string endpoint_;
  bool with_token_;
  std::chrono::milliseconds timeout_;
  httplib::Client http_;
};

}  // namespace perdure::cli
