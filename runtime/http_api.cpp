#include "http_api.hpp"

#include "http_errors.hpp"
#include "http_json.hpp"
#include "http_metrics.hpp"
#include "http_time.hpp"
#include "http_url.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <functional>
#include <thread>

namespace perdure {
namespace {

using nlohmann::json;
using httplib::Request;
using httplib::Response;

constexpr size_t max_page_size = 1000;
constexpr size_t default_page_size = 100;
constexpr const char* token_header = "x-ms-continuation-token";

void send_json(Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void send_error(const Request& req, Response& res, const api_error& e) {
  if (e.internal()) spdlog::error("management API: {} {} failed: {}", req.method, req.path, e.message);
  res.status = e.status;
  res.set_content(error_body(e.code, e.message), "application/json");
}

[[noreturn]] void bad_request(const std::string& message) { throw http_error(400, "InvalidArgument", message); }

// The body as a payload: empty means "no payload"; anything else must be valid JSON.
std::string json_body(const Request& req, const char* what) {
  if (req.body.empty()) return {};
  if (!json::accept(req.body)) throw http_error(400, "InvalidJson", std::string(what) + " is not valid JSON");
  return req.body;
}

bool flag(const Request& req, const char* name, bool fallback) {
  if (!req.has_param(name)) return fallback;
  const std::string value = req.get_param_value(name);
  if (value == "true" || value == "1") return true;
  if (value == "false" || value == "0") return false;
  bad_request(std::string(name) + " must be true or false, not '" + value + "'");
}

std::optional<time_point> time_param(const Request& req, const char* name) {
  if (!req.has_param(name)) return std::nullopt;
  const std::string value = req.get_param_value(name);
  auto t = parse_iso8601(value);
  if (!t) bad_request(std::string(name) + " is not an ISO 8601 time: '" + value + "'");
  return t;
}

std::vector<runtime_status> status_param(const Request& req) {
  std::vector<runtime_status> statuses;
  if (!req.has_param("runtimeStatus")) return statuses;
  const std::string value = req.get_param_value("runtimeStatus");
  size_t start = 0;
  while (start <= value.size()) {
    size_t end = value.find(',', start);
    if (end == std::string::npos) end = value.size();
    const std::string_view name = std::string_view(value).substr(start, end - start);
    auto s = parse_runtime_status(name);
    if (!s) bad_request("unknown runtimeStatus '" + std::string(name) + "'");
    statuses.push_back(*s);
    start = end + 1;
  }
  return statuses;
}

size_t page_size_param(const Request& req) {
  if (!req.has_param("top")) return default_page_size;
  const std::string value = req.get_param_value("top");
  size_t parsed = 0;
  size_t used = 0;
  try {
    parsed = std::stoul(value, &used);
  } catch (const std::logic_error&) {
    used = 0;
  }
  if (used == 0 || used != value.size() || parsed < 1 || parsed > max_page_size)
    bad_request("top must be a number from 1 to " + std::to_string(max_page_size) + ", not '" + value + "'");
  return parsed;
}

// The filters shared by list and purge; says whether any was given.
bool read_filters(const Request& req, instance_query& q) {
  q.statuses = status_param(req);
  q.name = req.get_param_value("name");
  q.created_from = time_param(req, "createdTimeFrom");
  q.created_to = time_param(req, "createdTimeTo");
  q.instance_id_prefix = req.get_param_value("instanceIdPrefix");
  return !q.statuses.empty() || !q.name.empty() || q.created_from || q.created_to || !q.instance_id_prefix.empty();
}

std::string reason_param(const Request& req) { return req.get_param_value("reason"); }

}  // namespace

struct http_api::impl {
  client& hub;
  const actors::node_metrics& metrics;
  http_api_options options;
  httplib::Server server;
  std::thread listener;
  std::string authority;  // address:port, when a request has no Host header

  impl(client& c, const actors::node_metrics& m, http_api_options o) : hub(c), metrics(m), options(o) {}

  // Every handler runs through here: nothing a request does can escape to httplib's threads.
  httplib::Server::Handler guarded(std::function<void(const Request&, Response&)> handler) {
    return [handler = std::move(handler)](const Request& req, Response& res) {
      try {
        handler(req, res);
      } catch (...) {
        send_error(req, res, map_exception(std::current_exception()));
      }
    };
  }

  std::string base_url(const Request& req) const {
    const std::string host = req.get_header_value("Host");
    return "http://" + (host.empty() ? authority : host);
  }

  // The check-status response of Durable Functions: where to manage the new instance.
  json management_urls(const Request& req, const std::string& id) const {
    const std::string instance = base_url(req) + "/api/instances/" + percent_encode(id);
    return json{{"id", id},
                {"statusQueryGetUri", instance},
                {"sendEventPostUri", instance + "/raiseEvent/{eventName}"},
                {"terminatePostUri", instance + "/terminate?reason={text}"},
                {"suspendPostUri", instance + "/suspend?reason={text}"},
                {"resumePostUri", instance + "/resume?reason={text}"},
                {"purgeHistoryDeleteUri", instance}};
  }

  void start_instance(const Request& req, Response& res) {
    start_options start;
    if (req.has_param("instanceId")) {
      start.instance_id = req.get_param_value("instanceId");
      if (start.instance_id.empty()) bad_request("instanceId is empty");
    }
    const std::string id = hub.start(req.matches[1].str(), json_body(req, "the input"), start);
    const json body = management_urls(req, id);
    res.set_header("Location", body["statusQueryGetUri"].get<std::string>());
    send_json(res, 202, body);
  }

  void get_instance(const Request& req, Response& res) {
    const std::string id = req.matches[1].str();
    const bool with_history = flag(req, "showHistory", false);
    const bool with_input = flag(req, "showInput", true);
    auto record = hub.status(id);
    if (!record) throw instance_not_found(id);
    json body = instance_json(*record, with_input);
    if (with_history) body["historyEvents"] = history_json(hub.history(id));
    send_json(res, is_terminal(record->status) ? 200 : 202, body);
  }

  void list_instances(const Request& req, Response& res) {
    instance_query q;
    read_filters(req, q);
    q.page_size = page_size_param(req);
    q.continuation_token = req.has_param("continuationToken") ? req.get_param_value("continuationToken")
                                                              : req.get_header_value(token_header);
    const bool with_input = flag(req, "showInput", false);
    const instance_page page = hub.list(q);
    json instances = json::array();
    for (const auto& record : page.records) instances.push_back(instance_json(record, with_input));
    json body{{"instances", std::move(instances)}, {"continuationToken", nullptr}};
    if (!page.continuation_token.empty()) {
      body["continuationToken"] = page.continuation_token;
      res.set_header(token_header, page.continuation_token);
    }
    send_json(res, 200, body);
  }

  void history(const Request& req, Response& res) {
    const std::string id = req.matches[1].str();
    send_json(res, 200, json{{"instanceId", id}, {"events", history_json(hub.history(id))}});
  }

  void raise_event(const Request& req, Response& res) {
    hub.raise_event(req.matches[1].str(), req.matches[2].str(), json_body(req, "the event data"));
    res.status = 202;
  }

  void command(const Request& req, Response& res) {
    const std::string id = req.matches[1].str();
    const std::string verb = req.matches[2].str();
    if (verb == "terminate") {
      hub.terminate(id, reason_param(req));
    } else if (verb == "suspend") {
      hub.suspend(id, reason_param(req));
    } else {
      hub.resume(id, reason_param(req));
    }
    res.status = 202;
  }

  void purge_instance(const Request& req, Response& res) {
    const std::string id = req.matches[1].str();
    // Checked first so that a running instance gets a 409 rather than the client's generic
    // invalid-argument error; the partition still decides (it may have restarted since).
    auto record = hub.status(id);
    if (!record) throw instance_not_found(id);
    if (!is_terminal(record->status))
      throw http_error(409, "InstanceNotTerminal",
                       "instance '" + id + "' is " + to_string(record->status) + "; only finished instances can be purged");
    if (!hub.purge(id)) throw instance_not_found(id);
    send_json(res, 200, json{{"instancesDeleted", 1}});
  }

  void purge_instances(const Request& req, Response& res) {
    instance_query q;
    // Purging every finished instance must be asked for explicitly (e.g. by listing the statuses).
    if (!read_filters(req, q))
      bad_request("purge by filter needs at least one of runtimeStatus, name, createdTimeFrom, createdTimeTo, instanceIdPrefix");
    send_json(res, 200, json{{"instancesDeleted", hub.purge(q)}});
  }

  void health(const Request&, Response& res) {
    // One cheap store read: a node that cannot read its data is not healthy.
    try {
      instance_query q;
      q.page_size = 1;
      hub.list(q);
    } catch (...) {
      const api_error e = map_exception(std::current_exception());
      spdlog::error("management API: health check failed: {}", e.message);
      res.status = 503;
      res.set_content(error_body("Unhealthy", e.message), "application/json");
      return;
    }
    send_json(res, 200, json{{"status", "Healthy"}});
  }

  // Counts by paging through the instance index: O(instances) per scrape, no extra bookkeeping
  // on the commit path.
  instance_counts count_instances() {
    instance_counts counts{};
    instance_query q;
    q.page_size = max_page_size;
    do {
      instance_page page = options.list_local(q);
      for (const auto& record : page.records) ++counts[static_cast<size_t>(record.status)];
      q.continuation_token = std::move(page.continuation_token);
    } while (!q.continuation_token.empty());
    return counts;
  }

  void metrics_text(const Request&, Response& res) {
    res.status = 200;
    res.set_content(prometheus_text(metrics, count_instances(), options.cluster), "text/plain; version=0.0.4");
  }

  void not_routed(const Request& req, Response& res) {
    // httplib calls this for every 4xx/5xx; responses the handlers wrote already carry a body.
    if (!res.body.empty()) return;
    switch (res.status) {
      case 404:
        res.set_content(error_body("NotFound", "no route for " + req.method + " " + req.path), "application/json");
        return;
      case 413:
        res.set_content(error_body("PayloadTooLarge", "the request body exceeds the limit of " +
                                                          std::to_string(options.max_body_bytes) + " bytes"),
                        "application/json");
        return;
      default:
        res.set_content(error_body(res.status >= 500 ? "InternalError" : "BadRequest",
                                   "the request could not be served (HTTP " + std::to_string(res.status) + ")"),
                        "application/json");
    }
  }

  void routes() {
    using self = impl;
    auto bind = [this](void (self::*method)(const Request&, Response&)) {
      return guarded([this, method](const Request& req, Response& res) { (this->*method)(req, res); });
    };
    const std::string id = "([^/]+)";
    server.Post("/api/orchestrations/([^/]+)", bind(&self::start_instance));
    server.Get("/api/instances", bind(&self::list_instances));
    server.Delete("/api/instances", bind(&self::purge_instances));
    server.Get("/api/instances/" + id, bind(&self::get_instance));
    server.Delete("/api/instances/" + id, bind(&self::purge_instance));
    server.Get("/api/instances/" + id + "/history", bind(&self::history));
    server.Post("/api/instances/" + id + "/raiseEvent/([^/]+)", bind(&self::raise_event));
    server.Post("/api/instances/" + id + "/(terminate|suspend|resume)", bind(&self::command));
    server.Get("/api/health", bind(&self::health));
    server.Get("/metrics", bind(&self::metrics_text));
    server.set_error_handler([this](const Request& req, Response& res) { not_routed(req, res); });
    server.set_exception_handler([](const Request& req, Response& res, std::exception_ptr failure) {
      send_error(req, res, map_exception(failure));
    });
    server.set_payload_max_length(options.max_body_bytes);
  }
};

http_api::http_api(client& hub, const actors::node_metrics& metrics, http_api_options options)
    : impl_(std::make_unique<impl>(hub, metrics, options)) {
  impl_->routes();
}

http_api::~http_api() { stop(); }

int http_api::start(const std::string& address, int port) {
  if (impl_->listener.joinable()) throw error("the management API is already started");
  int bound = port;
  if (port == 0) {
    bound = impl_->server.bind_to_any_port(address);
    if (bound < 0) bound = 0;
  } else if (!impl_->server.bind_to_port(address, port)) {
    bound = 0;
  }
  if (bound <= 0)
    throw error("cannot listen for the management API on " + address + ":" + std::to_string(port) +
                " (address in use or not local?)");
  impl_->authority = (address.find(':') != std::string::npos ? "[" + address + "]" : address) + ":" +
                     std::to_string(bound);
  impl_->listener = std::thread([this] {
    if (!impl_->server.listen_after_bind()) spdlog::error("management API: the listener stopped unexpectedly");
  });
  // httplib's stop() is a no-op until the listener runs; wait for it so that a quick stop()
  // cannot leave the listener running forever.
  while (!impl_->server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return bound;
}

void http_api::stop() {
  if (!impl_->listener.joinable()) return;
  impl_->server.stop();
  impl_->listener.join();
}

}  // namespace perdure
