// Who may reach a node (docs/security.md), in-process: the token file's format and its errors, the
// role each request needs, and the refusal of a node that would expose a port without protection.
#include "runtime/api_tokens.hpp"
#include "runtime/exposure_check.hpp"
#include "runtime/http_access.hpp"

#include <perdure/errors.hpp>

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

using namespace perdure;

namespace {

const std::string admin_token = "admin-token-0123456789abcdef";
const std::string read_token = "read-token-0123456789abcdef";

// A token file with these contents, removed at the end of the test.
class token_file {
 public:
  explicit token_file(const std::string& text)
      : path_(std::filesystem::temp_directory_path() / ("perdure-tokens-" + std::to_string(std::random_device{}()))) {
    std::ofstream(path_) << text;
  }
  ~token_file() { std::filesystem::remove(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

std::string load_error(const std::string& text) {
  token_file file(text);
  try {
    api_tokens::load(file.path());
  } catch (const invalid_argument_error& e) {
    return e.what();
  }
  return "no error";
}

http::request head(std::string method, std::vector<std::string> segments, std::string authorization = {}) {
  http::request r;
  r.method = std::move(method);
  for (const auto& s : segments) r.path += "/" + s;
  r.segments = std::move(segments);
  if (!authorization.empty()) r.headers.emplace_back("authorization", std::move(authorization));
  return r;
}

std::string refusal_of(const http::request& r, const api_tokens& tokens) {
  const auto refusal = refuse_access(r, tokens);
  return refusal ? std::to_string(refusal->status) : "allowed";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("a token file gives each token its role and ignores comments and blank lines") {
  token_file file("# the operators\nadmin " + admin_token + "\n\n  read   " + read_token + "  \r\n");
  const auto tokens = api_tokens::load(file.path());
  CHECK(tokens.size() == 2);
  CHECK(tokens.role_of(admin_token) == api_role::admin);
  CHECK(tokens.role_of(read_token) == api_role::read);
  CHECK_FALSE(tokens.role_of(admin_token + "x").has_value());
  CHECK_FALSE(tokens.role_of("").has_value());
}

TEST_CASE("a token file that is wrong is refused with its line and what to write") {
  CHECK(contains(load_error("write " + admin_token), "line 1: the role must be 'read' or 'admin', not 'write'"));
  CHECK(contains(load_error("\nadmin"), "line 2: expected 'ROLE TOKEN'"));
  CHECK(contains(load_error("admin " + admin_token + " extra"), "line 1: expected 'ROLE TOKEN'"));
  CHECK(contains(load_error("read short"), "a token must be 16 to 256 printable ASCII characters"));
  CHECK(contains(load_error("admin " + admin_token + "\nread " + admin_token), "line 2: this token is already listed"));
  CHECK(contains(load_error("# nothing here\n"), "holds no token"));
  std::string missing;
  try {
    api_tokens::load("/nonexistent/perdure-tokens");
  } catch (const invalid_argument_error& e) {
    missing = e.what();
  }
  CHECK(contains(missing, "cannot read the API token file /nonexistent/perdure-tokens (--api-token-file)"));
}

TEST_CASE("reads need a read token and changes an admin token but health and the web view files are open") {
  CHECK(access_needed(head("GET", {"api", "health"})) == required_access::open);
  CHECK(access_needed(head("GET", {"ui"})) == required_access::open);
  CHECK(access_needed(head("GET", {"ui", "app.js"})) == required_access::open);
  CHECK(access_needed(head("GET", {"metrics"})) == required_access::read);
  CHECK(access_needed(head("GET", {"api", "instances"})) == required_access::read);
  CHECK(access_needed(head("HEAD", {"api", "instances", "x"})) == required_access::read);
  CHECK(access_needed(head("GET", {"api", "instance-counts"})) == required_access::read);
  CHECK(access_needed(head("GET", {"api", "replay-check"})) == required_access::read);  // changes nothing
  CHECK(access_needed(head("POST", {"api", "orchestrations", "Chain"})) == required_access::admin);
  CHECK(access_needed(head("POST", {"api", "instances", "x", "terminate"})) == required_access::admin);
  CHECK(access_needed(head("POST", {"api", "activities", "0300", "complete"})) == required_access::admin);
  CHECK(access_needed(head("POST", {"api", "instances", "x", "rewind"})) == required_access::admin);
  CHECK(access_needed(head("POST", {"api", "instances", "x", "restart"})) == required_access::admin);
  CHECK(access_needed(head("DELETE", {"api", "instances"})) == required_access::admin);
  CHECK(access_needed(head("PUT", {"api", "schedules", "s"})) == required_access::admin);
  CHECK(access_needed(head("POST", {"api", "health"})) == required_access::admin);  // any change, even unrouted
  CHECK(access_needed(head("OPTIONS", {"api", "instances"})) == required_access::admin);
}

TEST_CASE("a request without a token or with an unknown one is 401, a read token changing something 403") {
  token_file file("admin " + admin_token + "\nread " + read_token + "\n");
  const auto tokens = api_tokens::load(file.path());
  const std::vector<std::string> list{"api", "instances"};
  const std::vector<std::string> terminate{"api", "instances", "x", "terminate"};
  CHECK(refusal_of(head("GET", list), tokens) == "401");
  CHECK(refusal_of(head("GET", list, "Bearer wrong-token-0123456789"), tokens) == "401");
  CHECK(refusal_of(head("GET", list, "Basic " + read_token), tokens) == "401");
  CHECK(refusal_of(head("GET", list, "Bearer " + read_token), tokens) == "allowed");
  CHECK(refusal_of(head("GET", list, "bearer " + admin_token), tokens) == "allowed");
  CHECK(refusal_of(head("POST", terminate, "Bearer " + read_token), tokens) == "403");
  CHECK(refusal_of(head("POST", terminate, "Bearer " + admin_token), tokens) == "allowed");
  const std::vector<std::string> rewind{"api", "instances", "x", "rewind"};
  CHECK(refusal_of(head("POST", rewind, "Bearer " + read_token), tokens) == "403");
  CHECK(refusal_of(head("POST", rewind, "Bearer " + admin_token), tokens) == "allowed");
  CHECK(refusal_of(head("GET", {"api", "health"}), tokens) == "allowed");

  const auto missing = refuse_access(head("GET", list), tokens);
  REQUIRE(missing);
  CHECK(missing->headers == std::vector<std::pair<std::string, std::string>>{{"WWW-Authenticate", R"(Bearer realm="perdure")"}});
  const auto wrong = refuse_access(head("GET", list, "Bearer wrong-token-0123456789"), tokens);
  REQUIRE(wrong);
  CHECK(wrong->headers.at(0).second == R"(Bearer realm="perdure", error="invalid_token")");
  const auto forbidden = refuse_access(head("POST", terminate, "Bearer " + read_token), tokens);
  REQUIRE(forbidden);
  CHECK(contains(forbidden->body, "needs a token with the admin role"));
}

TEST_CASE("loopback addresses are 127.0.0.0/8 and ::1 and localhost and every other address or name is exposed") {
  for (const char* loopback : {"127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "::ffff:127.0.0.1"})
    CHECK_MESSAGE(is_loopback_address(loopback), loopback);
  for (const char* exposed : {"0.0.0.0", "::", "10.0.0.1", "192.168.1.2", "node-a.example", "", "localhost.example"})
    CHECK_MESSAGE(!is_loopback_address(exposed), exposed);
}

TEST_CASE("a node refuses an exposed API without TLS and tokens, and an exposed cluster port without TLS, unless insecure") {
  const auto refusal = [](const node_options& o) {
    try {
      refuse_exposed_ports(o);
    } catch (const invalid_argument_error& e) {
      return std::string(e.what());
    }
    return std::string("started");
  };
  node_options o;
  o.http_port = 0;
  CHECK(refusal(o) == "started");  // loopback by default
  o.http_address = "0.0.0.0";
  CHECK(contains(refusal(o), "without --api-tls-cert and --api-tls-key (HTTPS) and --api-token-file (bearer tokens)"));
  CHECK(contains(refusal(o), "--insecure"));
  o.api_token_file = "tokens";
  CHECK(contains(refusal(o), "without --api-tls-cert and --api-tls-key (HTTPS):"));
  o.api_tls_cert = "node.pem";
  o.api_tls_key = "node.key";
  CHECK(refusal(o) == "started");
  o.api_token_file.clear();
  CHECK(contains(refusal(o), "without --api-token-file (bearer tokens)"));
  o.insecure = true;
  CHECK(refusal(o) == "started");

  node_options cluster;
  cluster.members = "a@127.0.0.1:7001,b@10.0.0.2:7002";
  cluster.node_id = "a";
  CHECK(refusal(cluster) == "started");
  cluster.node_id = "b";
  CHECK(contains(refusal(cluster), "refusing to listen for the cluster's members on 10.0.0.2"));
  cluster.listen_address = "127.0.0.1";
  CHECK(refusal(cluster) == "started");
  cluster.listen_address = "0.0.0.0";
  CHECK(contains(refusal(cluster), "on 0.0.0.0, which is not a loopback address, without --tls-cert"));
  cluster.cluster_tls = tls_credentials{"b.pem", "b.key", "ca.pem"};
  CHECK(refusal(cluster) == "started");
  cluster.cluster_tls = {};
  cluster.insecure = true;
  CHECK(refusal(cluster) == "started");
}
