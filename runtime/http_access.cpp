#include "http_access.hpp"

#include "http_errors.hpp"

#include <cctype>

namespace perdure {
namespace {

bool is_read_method(const std::string& method) { return method == "GET" || method == "HEAD"; }

// The token of an `Authorization: Bearer <token>` header (the scheme is case-insensitive, RFC 7235),
// or "" when there is none.
std::string bearer_token(const http::request& head) {
  const std::string value = head.header("Authorization");
  constexpr std::string_view scheme = "bearer ";
  if (value.size() <= scheme.size()) return {};
  for (size_t i = 0; i < scheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(value[i])) != scheme[i]) return {};
  const size_t start = value.find_first_not_of(' ', scheme.size());
  return start == std::string::npos ? std::string{} : value.substr(start);
}

http::response unauthorized(const std::string& message, bool token_given) {
  // RFC 6750: a request without credentials gets the bare challenge, a wrong token invalid_token.
  std::string challenge = R"(Bearer realm="perdure")";
  if (token_given) challenge += R"(, error="invalid_token")";
  return http::response{401, "application/json", {{"WWW-Authenticate", challenge}}, error_body("Unauthorized", message)};
}

}  // namespace

// Every GET only reads, GET /api/replay-check included: it replays histories in memory and changes
// no instance, so a read token may run it (a deploy pipeline needs no admin token to check code).
required_access access_needed(const http::request& head) {
  const auto& s = head.segments;
  if (is_read_method(head.method)) {
    if (s.size() == 2 && s[0] == "api" && s[1] == "health") return required_access::open;
    if (!s.empty() && s[0] == "ui") return required_access::open;  // static files; the page's API calls need a token
    return required_access::read;
  }
  return required_access::admin;
}

std::optional<http::response> refuse_access(const http::request& head, const api_tokens& tokens) {
  const required_access needed = access_needed(head);
  if (needed == required_access::open) return std::nullopt;
  const std::string token = bearer_token(head);
  if (token.empty())
    return unauthorized("this node's management API needs a token: send 'Authorization: Bearer <token>' "
                        "(the perdure CLI: --token or PERDURE_TOKEN)",
                        false);
  const auto role = tokens.role_of(token);
  if (!role) return unauthorized("the token is not one of this node's API tokens (--api-token-file)", true);
  if (needed == required_access::admin && *role != api_role::admin)
    return http::response{403, "application/json", {},
                          error_body("Forbidden", head.method + " " + head.path +
                                                      " changes the hub and needs a token with the admin role; "
                                                      "this token has the read role")};
  return std::nullopt;
}

}  // namespace perdure
