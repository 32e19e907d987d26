#include "http_entities.hpp"

#include "http_errors.hpp"
#include "http_json.hpp"
#include "http_page_size.hpp"
#include "http_time.hpp"

#include <perdure/detail/json_payload.hpp>
#include <perdure/errors.hpp>

#include <nlohmann/json.hpp>

namespace perdure {

namespace {

using nlohmann::json;

http::response json_response(int status, const json& body) {
  return http::response{status, "application/json", {}, body.dump(-1, ' ', false, json::error_handler_t::replace)};
}

http::response accepted() { return http::response{202, "application/json", {}, {}}; }

json entity_json(const entity_record& entity) {
  return json{{"name", entity.id.name},
              {"key", entity.id.key},
              {"state", payload_json(entity.state)},
              {"createdTime", format_iso8601(entity.created_at)},
              {"lastModifiedTime", format_iso8601(entity.last_modified_at)}};
}

// The operation's input: an empty body is none; anything else must pass the payload rule.
std::string input_body(const http::request& req, const std::string& operation) {
  try {
    detail::check_json_payload("the input of operation '" + operation + "'", req.body);
  } catch (const payload_error& e) {
    throw http_error(400, "InvalidJson", e.what());
  }
  return req.body;
}

// `at`: a scheduled signal's delivery time; none: at once.
time_point delivery_time(const http::request& req) {
  if (!req.has_param("at")) return {};
  const std::string text = req.param("at");
  auto t = parse_iso8601(text);
  if (!t) throw http_error(400, "InvalidArgument", "at is not an ISO 8601 time: '" + text + "'");
  return *t;
}

http::response list(const http::request& req, client& hub) {
  entity_query query;
  query.name = req.param("name");
  query.key_prefix = req.param("keyPrefix");
  query.page_size = requested_page_size(req, "pageSize");
  query.continuation_token = req.param("continuationToken");
  const entity_page page = hub.list_entities(query);
  json entities = json::array();
  for (const auto& entity : page.records) entities.push_back(entity_json(entity));
  return json_response(200, json{{"entities", std::move(entities)},
                                 {"continuationToken", page.continuation_token.empty() ? json() : json(page.continuation_token)}});
}

http::response get(const entity_id& id, client& hub) {
  auto entity = hub.get_entity(id);
  if (!entity) throw http_error(404, "EntityNotFound", "entity '" + id.instance_id() + "' has no state");
  return json_response(200, entity_json(*entity));
}

}  // namespace

std::optional<http::response> route_entities(const http::request& req, client& hub) {
  const auto& s = req.segments;
  if (s.size() < 2 || s[0] != "api" || s[1] != "entities") return std::nullopt;
  const std::string& m = req.method;
  if (s.size() == 2 && m == "GET") return list(req, hub);
  if (s.size() == 4) {
    const entity_id id{s[2], s[3]};
    if (m == "GET") return get(id, hub);
    if (m == "DELETE") {
      hub.delete_entity(id);
      return accepted();
    }
  }
  if (s.size() == 6 && m == "POST" && s[4] == "signals") {
    hub.signal_entity(entity_id{s[2], s[3]}, s[5], input_body(req, s[5]), delivery_time(req), req.header("traceparent"));
    return accepted();
  }
  return http::response{404, "application/json", {}, error_body("NotFound", "no route for " + m + " " + req.path)};
}

}  // namespace perdure
