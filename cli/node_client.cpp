#include "node_client.hpp"

#include <algorithm>
#include <fstream>

namespace perdure::cli {
namespace {

bool is_https(const std::string& endpoint) { return endpoint.starts_with("https://"); }

std::string checked_endpoint(const std::string& endpoint) {
  const size_t scheme = is_https(endpoint) ? 8 : endpoint.starts_with("http://") ? 7 : 0;
  if (scheme == 0 || endpoint.size() == scheme)
    throw failure(exit_code::usage,
                  "the endpoint must look like http://HOST:PORT or https://HOST:PORT, not '" + endpoint + "'");
  std::string trimmed = endpoint;
  while (trimmed.size() > scheme && trimmed.back() == '/') trimmed.pop_back();
  if (trimmed.find('/', scheme) != std::string::npos)
    throw failure(exit_code::usage, "the endpoint must not have a path: '" + endpoint + "'");
  // cpp-httplib would take any digits as the port and fail later as if the node were down.
  const auto colon = trimmed.rfind(':');
  if (colon >= scheme && trimmed[colon - 1] != ']') {  // not the scheme's colon, not inside an IPv6 address
    const std::string port = trimmed.substr(colon + 1);
    const bool digits = !port.empty() && port.size() <= 5 &&
                        std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits || std::stoi(port) < 1 || std::stoi(port) > 65535)
      throw failure(exit_code::usage, "the endpoint's port must be a number from 1 to 65535, not '" + port + "'");
  }
  return trimmed;
}

exit_code code_for(int status) {
  switch (status) {
    case 400:
    case 413: return exit_code::usage;
    case 401:
    case 403: return exit_code::denied;
    case 404: return exit_code::not_found;
    case 409: return exit_code::conflict;
    case 410: return exit_code::finished;
    case 503: return exit_code::unreachable;  // the instance's owner is unreachable (Retry-After)
    case 504: return exit_code::timeout;
    default: return exit_code::failed;
  }
}

}  // namespace

node_client::node_client(const node_address& node, std::chrono::milliseconds timeout)
    : endpoint_(checked_endpoint(node.endpoint)), with_token_(!node.token.empty()), timeout_(timeout), http_(endpoint_) {
  if (!http_.is_valid()) throw failure(exit_code::usage, "cannot use the endpoint '" + node.endpoint + "'");
  if (!node.ca_file.empty()) {
    if (!is_https(endpoint_))
      throw failure(exit_code::usage, "--cacert is for an https:// endpoint, not '" + endpoint_ + "'");
    if (!std::ifstream(node.ca_file))
      throw failure(exit_code::usage, "cannot read the CA certificates file '" + node.ca_file + "' (--cacert)");
    http_.set_ca_cert_path(node.ca_file);
  }
  if (is_https(endpoint_)) http_.enable_server_certificate_verification(true);
  if (with_token_) http_.set_bearer_token_auth(node.token);
  http_.set_connection_timeout(std::min<std::chrono::milliseconds>(timeout, std::chrono::seconds(5)));
  http_.set_read_timeout(timeout);
  http_.set_write_timeout(timeout);
}

reply node_client::get(const std::string& target) { return check(http_.Get(target), "GET", target); }

reply node_client::post(const std::string& target, const std::string& json_body, const httplib::Headers& headers) {
  return check(http_.Post(target, headers, json_body, "application/json"), "POST", target);
}

reply node_client::put(const std::string& target, const std::string& json_body) {
  return check(http_.Put(target, json_body, "application/json"), "PUT", target);
}

reply node_client::del(const std::string& target) { return check(http_.Delete(target), "DELETE", target); }

reply node_client::check(const httplib::Result& result, const std::string& method, const std::string& target) {
  if (result.error() == httplib::Error::Read || result.error() == httplib::Error::Write)
    throw failure(exit_code::timeout, method + " " + endpoint_ + target + " got no answer within " +
                                          std::to_string(timeout_.count()) + " ms (--timeout)");
  if (result.error() == httplib::Error::SSLServerVerification)
    throw failure(exit_code::unreachable,
                  "the node at " + endpoint_ +
                      " presented a certificate that is not trusted or not issued for that host name: pass --cacert "
                      "with the CA that signed it, and use the host name or address the certificate names");
  if (result.error() == httplib::Error::SSLConnection)
    throw failure(exit_code::unreachable, "no TLS connection with " + endpoint_ +
                                              ": is the node serving HTTPS (--api-tls-cert)? Use http:// if not");
  if (result.error() == httplib::Error::SSLLoadingCerts)
    throw failure(exit_code::usage, "cannot load the CA certificates of --cacert (PEM expected)");
  if (!result)
    throw failure(exit_code::unreachable, "cannot reach a Perdure node at " + endpoint_ + ": " +
                                              httplib::to_string(result.error()) +
                                              " error (is it running with --http-port? set --endpoint or PERDURE_ENDPOINT)");
  reply r;
  r.status = result->status;
  r.continuation_token = result->get_header_value("x-ms-continuation-token");
  if (!result->body.empty()) {
    r.body = nlohmann::json::parse(result->body, nullptr, false);
    if (r.body.is_discarded())
      throw failure(exit_code::unreachable, method + " " + endpoint_ + target + " answered HTTP " +
                                                std::to_string(r.status) + " with a body that is not JSON: is " +
                                                endpoint_ + " a Perdure node?");
  }
  if (r.status == 401)
    throw failure(exit_code::denied,
                  with_token_ ? "the node at " + endpoint_ + " refused the token: it is none of the node's API tokens "
                                                             "(--api-token-file); check --token or PERDURE_TOKEN (HTTP 401)"
                              : "the node at " + endpoint_ +
                                    " needs a token: pass --token or set PERDURE_TOKEN (HTTP 401)");
  if (r.status >= 400) {
    std::string message = "HTTP " + std::to_string(r.status);
    if (r.body.is_object() && r.body.contains("message") && r.body["message"].is_string())
      message = r.body["message"].get<std::string>() + " (" + message +
                (r.body.contains("error") && r.body["error"].is_string() ? " " + r.body["error"].get<std::string>() : "") +
                ")";
    throw failure(code_for(r.status), message);
  }
  return r;
}

}  // namespace perdure::cli
