#include "http_activities.hpp"

#include "http_errors.hpp"
#include "http_json.hpp"

#include <perdure/detail/json_payload.hpp>
#include <perdure/errors.hpp>

#include <nlohmann/json.hpp>

namespace perdure {

namespace {

// The body is the activity's result, or a heartbeat's details: empty for none, else it must pass
// the payload rule.
std::string payload_body(const http::request& req, const char* what) {
  try {
    detail::check_json_payload(what, req.body);
  } catch (const payload_error& e) {
    throw http_error(400, "InvalidJson", e.what());
  }
  return req.body;
}

// The body is a failure object, in the shape failureDetails has everywhere else.
failure_details failure_body(const http::request& req) {
  const auto body = nlohmann::json::parse(req.body, nullptr, false);
  if (body.is_discarded()) throw http_error(400, "InvalidJson", "the failure is not JSON: send an object such as "
                                                                "{\"errorType\": \"Declined\", \"message\": \"...\"}");
  return failure_from_json(body, "the failure");
}

}  // namespace

std::optional<http::response> route_activities(const http::request& req, client& hub) {
  const auto& s = req.segments;
  if (s.size() < 2 || s[0] != "api" || s[1] != "activities") return std::nullopt;
  if (s.size() == 4 && req.method == "POST" && s[3] == "complete") {
    hub.complete_activity(s[2], payload_body(req, "the activity's result"));
    return http::response{202, "application/json", {}, {}};
  }
  if (s.size() == 4 && req.method == "POST" && s[3] == "fail") {
    hub.fail_activity(s[2], failure_body(req));
    return http::response{202, "application/json", {}, {}};
  }
  if (s.size() == 4 && req.method == "POST" && s[3] == "heartbeat") {
    hub.heartbeat_activity(s[2], payload_body(req, "the heartbeat details"));
    return http::response{202, "application/json", {}, {}};
  }
  return http::response{404, "application/json", {}, error_body("NotFound", "no route for " + req.method + " " + req.path)};
}

}  // namespace perdure
