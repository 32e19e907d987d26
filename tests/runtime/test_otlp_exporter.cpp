// The OTLP exporter's endpoint and CA file checks (runtime/otlp_exporter.hpp): what a node refuses
// at start, with a message naming the flag. Exporting itself is tested on a real node
// (test_traces.cpp).
#include "runtime/otlp_exporter.hpp"

#include <perdure/errors.hpp>

#include <doctest/doctest.h>

#include <string>

using namespace perdure;

namespace {

std::string refusal(const std::string& endpoint, const std::string& ca_file = {}) {
  actors::node_metrics metrics;
  otlp_exporter_options options;
  options.endpoint = endpoint;
  options.ca_file = ca_file;
  try {
    otlp_exporter exporter{options, metrics};
  } catch (const invalid_argument_error& e) {
    return e.what();
  }
  return {};
}

}  // namespace

TEST_CASE("otlp exporter: http:// and https:// endpoints, with a CA file for https:// only") {
  CHECK(refusal("http://127.0.0.1:4318").empty());
  CHECK(refusal("https://collector.example/otlp").empty());
  CHECK(refusal("https://127.0.0.1:4318", PERDURE_SOURCE_DIR "/scripts/make-test-certs.sh").empty());  // readable
  CHECK(refusal("grpc://127.0.0.1:4317").find("is not an http:// or https:// URL") != std::string::npos);
  CHECK(refusal("https://:4318").find("names no host") != std::string::npos);
  CHECK(refusal("https://127.0.0.1:99999").find("has no valid port") != std::string::npos);
  CHECK(refusal("http://127.0.0.1:4318", "/etc/hostname").find("for an https:// --otlp-endpoint only") !=
        std::string::npos);
  CHECK(refusal("https://127.0.0.1:4318", "/no/such/ca.pem").find("cannot be read") != std::string::npos);
}
