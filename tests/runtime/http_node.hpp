// An in-process node whose management API listens on a free port: what the tests that drive a
// node through both the C++ client and HTTP/CLI share. A test's node derives from it, registers
// its functions on `h` and calls start().
#pragma once

#include "node_fixture.hpp"

#include <httplib.h>

#include <string>

namespace perdure::testing_support {

struct http_node {
  perdure::host h;

  perdure::client& c() { return h.client(); }
  httplib::Client http() { return httplib::Client("127.0.0.1", h.http_port()); }
  std::string endpoint() { return "http://127.0.0.1:" + std::to_string(h.http_port()); }

 protected:
  void start(node_options options) {
    options.http_port = 0;
    h.start(options);
  }
};

}  // namespace perdure::testing_support
