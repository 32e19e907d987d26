#include "http_api.hpp"

#include "http_access.hpp"
#include "http_activities.hpp"
#include "http_cluster_control.hpp"
#include "http_entities.hpp"
#include "http_errors.hpp"
#include "http_json.hpp"
#include "http_metrics.hpp"
#include "http_page_size.hpp"
#include "http_params.hpp"
#include "http_schedules.hpp"
#include "http_server.hpp"
#include "http_ui.hpp"
#include "http_url.hpp"
#include "http_wait_param.hpp"
#include "http_waits.hpp"

#include "actors/cluster_view.hpp"

#include <perdure/detail/json_payload.hpp>
#include <perdure/replay_check.hpp>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <variant>

namespace perdure {
namespace {

using nlohmann::json;
using http::request;
using http::response;

constexpr const char* token_header = "x-ms-continuation-token";

response json_response(int status, const json& body) {
  return response{status, "application/json", {}, body.dump(-1, ' ', false, json::error_handler_t::replace)};
}

response error_response(int status, const std::string& code, const std::string& message) {
  return response{status, "application/json", {}, error_body(code, message)};
}

response error_response(const std::string& method, const std::string& path, const api_error& e) {
  if (e.internal()) spdlog::error("management API: {} {} failed: {}", method, path, e.message);
  response res = error_response(e.status, e.code, e.message);
  if (e.retry_after_seconds > 0) res.headers.emplace_back("Retry-After", std::to_string(e.retry_after_seconds));
  return res;
}

[[noreturn]] void bad_request(const std::string& message) { throw http_error(400, "InvalidArgument", message); }

// The body as a payload: empty means "no payload"; anything else must pass the payload rule.
std::string json_body(const request& req, const char* what) {
  try {
    detail::check_json_payload(what, req.body);
  } catch (const payload_error& e) {
    throw http_error(400, "InvalidJson", e.what());
  }
  return req.body;
}

// What start does with an instance id that is already running: fail (409, the default) or
// returnExisting (an idempotent start: the running instance is left alone and answered).
if_running if_running_param(const request& req) {
  if (!req.has_param("ifRunning")) return if_running::fail;
  const std::string value = req.param("ifRunning");
  if (value == "fail") return if_running::fail;
  if (value == "returnExisting") return if_running::return_existing;
  bad_request("ifRunning must be fail or returnExisting, not '" + value + "'");
}

bool timed_out(const std::exception_ptr& failure) {
  try {
    std::rethrow_exception(failure);
  } catch (const timeout_error&) {
    return true;
  } catch (...) {
    return false;
  }
}

// Where a restart's new history begins: a position in the history, 0 (from the start) or more.
int32_t from_event_param(const request& req) {
  return whole_number_param(req, "fromEvent", "a position in the history, a whole number from 0").value_or(0);
}

// The reason of terminate, suspend and resume: recorded in the history, so it must be text.
std::string reason_param(const request& req) {
  std::string reason = req.param("reason");
  if (!valid_utf8(reason)) bad_request("the reason parameter is not valid UTF-8 (percent-encode UTF-8 text)");
  return reason;
}

bool is_health(const request& req) {
  return req.method == "GET" && req.segments.size() == 2 && req.segments[0] == "api" && req.segments[1] == "health";
}

}  // namespace

// Whether what a request does after the node answered it (on one of the node's actor threads, as
// a start's continuation) may still touch the API: not once it stopped. Continuations hold it
// shared while they run; stopping takes it exclusively, so it waits for the running ones.
struct continuation_gate {
  std::shared_mutex mutex;
  bool open = false;
};

struct http_api::impl {
  client& hub;
  const actors::node_metrics& metrics;
  http_api_options options;
  http_waits waits;
  std::unique_ptr<http::server> server;
  std::string authority;  // the bound address:port, for the URLs the API returns
  std::shared_ptr<continuation_gate> gate = std::make_shared<continuation_gate>();

  impl(client& c, const actors::node_metrics& m, http_api_options o)
      : hub(c), metrics(m), options(std::move(o)), waits(c, options.max_waiters) {}

  // Every request runs through here: nothing a request does escapes to the server. A request that
  // waits for its instance is answered later, by the wait's callback.
  void handle(const request& req, const http::responder& out) {
    try {
      if (auto res = route(req, out)) out.send(std::move(*res));
    } catch (...) {
      out.send(error_response(req.method, req.path, map_exception(std::current_exception())));
    }
  }

  // The response, or nullopt when `out` will be answered later.
  std::optional<response> route(const request& req, const http::responder& out) {
    const auto& s = req.segments;
    const std::string& m = req.method;
    const bool api = s.size() >= 2 && s[0] == "api";
    if (api && s[1] == "orchestrations" && s.size() == 3 && m == "POST") return start_instance(req, s[2], out);
    if (api && s[1] == "instances") {
      if (s.size() == 2 && m == "GET") return list_instances(req);
      if (s.size() == 2 && m == "DELETE") return purge_instances(req);
      if (s.size() == 3 && m == "GET") return get_instance(req, s[2], out);
      if (s.size() == 3 && m == "DELETE") return purge_instance(s[2]);
      if (s.size() == 4 && m == "GET" && s[3] == "history") return history(req, s[2]);
      if (s.size() == 5 && m == "POST" && s[3] == "raiseEvent") return raise_event(req, s[2], s[4]);
      if (s.size() == 4 && m == "POST" &&
          (s[3] == "terminate" || s[3] == "suspend" || s[3] == "resume" || s[3] == "rewind"))
        return command(req, s[2], s[3]);
      if (s.size() == 4 && m == "POST" && s[3] == "restart") return restart(req, s[2]);
    }
    if (auto schedules = route_schedules(req, hub)) return std::move(*schedules);
    if (auto entities = route_entities(req, hub)) return std::move(*entities);
    if (auto activities = route_activities(req, hub)) return std::move(*activities);
    if (auto control = route_cluster_control(req, options.control)) return std::move(*control);
    if (auto ui = route_ui(req, hub)) return std::move(*ui);
    if (is_health(req)) return health();
    if (api && s.size() == 2 && s[1] == "cluster" && m == "GET") return cluster_view();
    if (api && s.size() == 2 && s[1] == "replay-check" && m == "GET") return replay_check_instances(req);
    if (s.size() == 1 && s[0] == "metrics" && m == "GET") return metrics_text();
    return error_response(404, "NotFound", "no route for " + m + " " + req.path);
  }

  // The check-status response of Durable Functions: where to manage the new instance. Built from
  // the node's own address, never from the request's Host header (which the client controls).
  json management_urls(const std::string& id) const {
    const std::string instance = std::string(options.tls ? "https://" : "http://") + authority + "/api/instances/" + percent_encode(id);
    return json{{"id", id},
                {"statusQueryGetUri", instance},
                {"sendEventPostUri", instance + "/raiseEvent/{eventName}"},
                {"terminatePostUri", instance + "/terminate?reason={text}"},
                {"suspendPostUri", instance + "/suspend?reason={text}"},
                {"resumePostUri", instance + "/resume?reason={text}"},
                {"purgeHistoryDeleteUri", instance}};
  }

  // 202 with where to manage the instance: Durable Functions' CreateCheckStatusResponse.
  response check_status_response(const std::string& id) const {
    const json body = management_urls(id);
    response res = json_response(202, body);
    res.headers.emplace_back("Location", body["statusQueryGetUri"].get<std::string>());
    return res;
  }

  // What a wait answers once it is over: `on_end` with the record of the instance that ended,
  // `on_timeout` when it still runs, any other failure as its error. Runs on a worker.
  template <class OnEnd, class OnTimeout>
  static response after_wait(const std::string& method, const std::string& path, const wait_result& result,
                             OnEnd on_end, OnTimeout on_timeout) {
    try {
      if (const auto* record = std::get_if<instance_record>(&result)) return on_end(*record);
      const auto& failure = std::get<std::exception_ptr>(result);
      if (timed_out(failure)) return on_timeout();
      std::rethrow_exception(failure);
    } catch (...) {
      return error_response(method, path, map_exception(std::current_exception()));
    }
  }

  // With a wait (waitForCompletion or Prefer: wait), Durable Functions'
  // WaitForCompletionOrCreateCheckStatusResponse: 200 with the instance if it ends within the
  // wait, else the 202 of a plain start. The waiter's place is taken before the start, so a 503
  // for want of one starts nothing. The start holds no worker while its partition commits: the
  // partition's answer continues the request (issue 15: a blocking start per worker capped the
  // throughput at what 32 workers' round trips allow).
  std::optional<response> start_instance(const request& req, const std::string& name, const http::responder& out) {
    start_options start;
    if (req.has_param("instanceId")) {
      start.instance_id = req.param("instanceId");
      if (start.instance_id.empty()) bad_request("instanceId is empty");  // absent picks one; empty is a mistake
    }
    start.when_running = if_running_param(req);
    start.version = version_param(req);
    // W3C trace context: the instance's span continues the caller's trace (a malformed one is ignored).
    start.traceparent = req.header("traceparent");
    start.tracestate = req.header("tracestate");
    const auto wait = requested_wait(req);
    auto slot = std::make_shared<std::optional<http_waits::slot>>();
    if (wait) slot->emplace(waits.reserve());
    hub.start_async(name, json_body(req, "the input"), start,
                    [this, gate = gate, out, slot, wait, method = req.method, path = req.path](start_result started) {
                      std::shared_lock open(gate->mutex);
                      if (!gate->open) return;  // the API stopped: nobody is left to answer
                      after_start(started, std::move(*slot), wait, out, method, path);
                    });
    return std::nullopt;
  }

  // On the actor thread that got the partition's answer: never blocks.
  void after_start(const start_result& started, std::optional<http_waits::slot> slot,
                   std::optional<std::chrono::milliseconds> wait, const http::responder& out,
                   const std::string& method, const std::string& path) {
    try {
      if (const auto* failure = std::get_if<std::exception_ptr>(&started)) std::rethrow_exception(*failure);
      const std::string& id = std::get<std::string>(started);
      if (!wait) return out.send(check_status_response(id));
      waits.wait(std::move(*slot), id, *wait, out, [this, id, method, path](const wait_result& r) {
        return after_wait(
            method, path, r,
            [](const instance_record& record) { return json_response(200, instance_json(record, true)); },
            [&] { return check_status_response(id); });
      });
    } catch (...) {
      slot.reset();  // the waiter's place is free before the client hears of the failure
      out.send(error_response(method, path, map_exception(std::current_exception())));
    }
  }

  // With a wait, a long-poll: answered when the instance ends (200), or with its status when the
  // wait is over first (202), as without a wait.
  std::optional<response> get_instance(const request& req, const std::string& id, const http::responder& out) {
    const bool with_history = flag_param(req, "showHistory", false);
    const bool with_input = flag_param(req, "showInput", true);
    const auto wait = requested_wait(req);
    if (!wait) return status_response(id, with_input, with_history);
    waits.wait(waits.reserve(), id, *wait, out,
               [this, id, with_input, with_history, method = req.method, path = req.path](const wait_result& r) {
                 return after_wait(
                     method, path, r,
                     [&](const instance_record& record) { return record_response(record, with_input, with_history); },
                     [&] { return status_response(id, with_input, with_history); });
               });
    return std::nullopt;
  }

  response status_response(const std::string& id, bool with_input, bool with_history) {
    auto record = hub.status(id);
    if (!record) throw instance_not_found(id);
    return record_response(*record, with_input, with_history);
  }

  // 200 for an instance that has ended, 202 for one that runs.
  response record_response(const instance_record& record, bool with_input, bool with_history) {
    json body = instance_json(record, with_input);
    if (with_history) body["historyEvents"] = history_json(hub.history(record.instance_id));
    return json_response(is_terminal(record.status) ? 200 : 202, body);
  }

  response list_instances(const request& req) {
    instance_query q;
    read_instance_filters(req, q);
    q.page_size = requested_page_size(req, "top");
    q.continuation_token = req.has_param("continuationToken") ? req.param("continuationToken") : req.header(token_header);
    const bool with_input = flag_param(req, "showInput", false);
    const instance_page page = hub.list(q);
    json instances = json::array();
    for (const auto& record : page.records) instances.push_back(instance_json(record, with_input));
    json body{{"instances", std::move(instances)}, {"continuationToken", nullptr}};
    if (page.continuation_token.empty()) return json_response(200, body);
    body["continuationToken"] = page.continuation_token;
    response res = json_response(200, body);
    res.headers.emplace_back(token_header, page.continuation_token);
    return res;
  }

  // format=export: the history export document (<perdure/history_json.hpp>), which gives back the
  // exact events; otherwise the display form.
  response history(const request& req, const std::string& id) {
    const std::string format = req.param("format");
    if (format != "" && format != "export") bad_request("format must be 'export' (or absent), not '" + format + "'");
    const perdure::history events = hub.history(id);
    if (format == "export") return json_response(200, history_export_json(id, events));
    return json_response(200, json{{"instanceId", id}, {"events", history_json(events)}});
  }

  // Replays the matching instances' histories (by default those that run) against this node's
  // code; reads only.
  response replay_check_instances(const request& req) {
    instance_query q = instances_to_replay_check();
    const auto running = q.statuses;
    read_instance_filters(req, q);
    if (q.statuses.empty()) q.statuses = running;
    return json_response(200, replay_check_json(replay_check(hub, *options.functions, q)));
  }

  response raise_event(const request& req, const std::string& id, const std::string& event_name) {
    hub.raise_event(id, event_name, json_body(req, "the event data"), req.header("traceparent"));
    return response{202, "application/json", {}, {}};
  }

  response command(const request& req, const std::string& id, const std::string& verb) {
    const std::string reason = reason_param(req);
    if (verb == "terminate") {
      hub.terminate(id, reason);
    } else if (verb == "suspend") {
      hub.suspend(id, reason);
    } else if (verb == "rewind") {
      hub.rewind(id, reason);
    } else {
      hub.resume(id, reason);
    }
    return response{202, "application/json", {}, {}};
  }

  // 202 like a start: the new execution runs; where to follow it is the same instance's URLs.
  response restart(const request& req, const std::string& id) {
    hub.restart(id, restart_options{from_event_param(req), version_param(req)});
    return check_status_response(id);
  }

  response purge_instance(const std::string& id) {
    // Checked first so that a running instance gets a 409 rather than the client's generic
    // invalid-argument error; the partition still decides (it may have restarted since).
    auto record = hub.status(id);
    if (!record) throw instance_not_found(id);
    if (!is_terminal(record->status))
      throw http_error(409, "InstanceNotTerminal",
                       "instance '" + id + "' is " + to_string(record->status) + "; only finished instances can be purged");
    if (!hub.purge(id)) throw instance_not_found(id);
    return json_response(200, json{{"instancesDeleted", 1}});
  }

  response purge_instances(const request& req) {
    instance_query q;
    // Purging every finished instance must be asked for explicitly (e.g. by listing the statuses).
    if (!read_instance_filters(req, q))
      bad_request("purge by filter needs at least one of runtimeStatus, name, createdTimeFrom, createdTimeTo, "
                  "instanceIdPrefix, version, waitingForVersion");
    return json_response(200, json{{"instancesDeleted", hub.purge(q)}});
  }

  // This node only: its partitions and its store. Never a cluster-wide call, so that one node
  // down does not make every other node look unhealthy to a load balancer.
  response health() {
    std::vector<std::string> problems;
    if (const auto failed = metrics.failed_partitions.load(std::memory_order_relaxed); failed > 0)
      problems.push_back(std::to_string(failed) + " of this node's partitions stopped after a storage failure (see its log)");
    try {
      instance_query q;
      q.page_size = 1;
      options.list_local(q);
    } catch (...) {
      problems.push_back("cannot read the store: " + map_exception(std::current_exception()).message);
    }
    if (problems.empty()) return json_response(200, json{{"status", "Healthy"}});
    std::string message = problems[0];
    for (size_t i = 1; i < problems.size(); ++i) message += "; " + problems[i];
    spdlog::error("management API: health check failed: {}", message);
    return error_response(503, "Unhealthy", message);
  }

  // The members of the hub and which of them this node reaches; a cluster-wide call.
  response cluster_view() {
    auto* cluster = dynamic_cast<cluster_client*>(&hub);
    if (!cluster)
      return json_response(200, json{{"status", "SingleNode"},
                                     {"replicated", false},
                                     {"members", json::array()},
                                     {"partitions", json::array()}});
    const std::vector<node_stats> nodes = cluster->cluster_stats();
    json members = json::array();
    size_t reachable = 0;
    const auto ids = options.view->member_ids();
    const auto draining = options.view->draining();
    const auto removed = options.view->removed();
    for (size_t i = 0; i < ids.size(); ++i) {
      if (i < removed.size() && removed[i]) continue;  // an operator's `perdure cluster remove`: gone for good
      const auto& id = ids[i];
      const bool up = std::any_of(nodes.begin(), nodes.end(), [&](const node_stats& n) { return n.node_id == id; });
      reachable += up;
      members.push_back(json{{"nodeId", id}, {"reachable", up}, {"state", draining[i] ? "draining" : "active"}});
    }
    json stats = json::array();
    for (const auto& n : nodes)
      stats.push_back(json{{"nodeId", n.node_id},
                           {"partitionsOwned", n.partitions_owned},
                           {"episodes", n.episodes},
                           {"activitiesExecuted", n.activities_executed},
                           {"activitiesLeasedOut", n.activities_leased_out},
                           {"activitiesRedispatched", n.activities_redispatched},
                           {"activitiesRejected", n.activities_rejected},
                           {"messagesOut", n.messages_out},
                           {"messagesIn", n.messages_in},
                           {"membersUp", n.members_up}});
    const bool all_up = reachable == members.size();
    return json_response(200, json{{"status", all_up ? "AllMembersUp" : "MembersDown"},
                                   {"nodeId", nodes.empty() ? "" : nodes.front().node_id},
                                   {"replicated", options.replicated},
                                   {"members", std::move(members)},
                                   {"nodes", std::move(stats)},
                                   {"partitions", partitions_json()}});
  }

  // Who owns each partition, in which epoch, who follows it, as this node sees it now (its view
  // follows the assignment table one replica manager round behind).
  json partitions_json() const {
    json out = json::array();
    if (!options.view) return out;
    const auto ids = options.view->member_ids();
    const auto member = [&](size_t index) { return index < ids.size() ? json(ids[index]) : json(); };
    for (uint32_t p = 0; p < options.view->partitions(); ++p) {
      const actors::partition_owner owner = options.view->owner(p);
      json followers = json::array();
      for (size_t f : owner.followers)
        if (f < ids.size()) followers.push_back(ids[f]);
      out.push_back(json{{"partition", p},
                         {"owner", member(owner.member)},  // null while unassigned
                         {"epoch", owner.epoch},
                         {"followers", std::move(followers)},
                         {"ledHere", static_cast<bool>(owner.local)},
                         {"movingTo", member(owner.moving_to)},  // null: no move under way
                         {"moveLag", owner.move_lag ? json(*owner.move_lag) : json()},
                         {"pinned", owner.pinned}});
    }
    return out;
  }

  // Counts by paging through the instance index: O(instances) per scrape, no extra bookkeeping
  // on the commit path. The instances waiting for a version are kept on the way.
  instance_counts count_instances(std::vector<instance_record>& waiting_for_version) {
    instance_counts counts{};
    instance_query q;
    q.page_size = max_page_size;
    do {
      instance_page page = options.list_local(q);
      for (auto& record : page.records) {
        ++counts[static_cast<size_t>(record.status)];
        if (record.waiting_for_version()) waiting_for_version.push_back(std::move(record));
      }
      q.continuation_token = std::move(page.continuation_token);
    } while (!q.continuation_token.empty());
    return counts;
  }

  response metrics_text() {
    std::vector<instance_record> waiting_for_version;
    const instance_counts counts = count_instances(waiting_for_version);
    return response{200, "text/plain; version=0.0.4", {},
                    prometheus_text(metrics, counts, options.cluster, options.view.get()) +
                        version_wait_metrics(waiting_for_version) +
                        waiter_metrics(waits.waiting(), waits.limit()) +
                        (options.more_metrics ? options.more_metrics() : std::string{})};
  }
};

http_api::http_api(client& hub, const actors::node_metrics& metrics, http_api_options options)
    : impl_(std::make_unique<impl>(hub, metrics, std::move(options))) {}

http_api::~http_api() { stop(); }

int http_api::start(const std::string& address, int port) {
  if (impl_->server) throw error("the management API is already started");
  http::server_options o;
  o.body_limit = impl_->options.max_body_bytes;
  o.max_connections = impl_->options.max_connections;
  o.tls = impl_->options.tls;
  auto& api = *impl_;
  if (api.options.tokens)
    o.refuse_head = [&api](const request& head) { return refuse_access(head, *api.options.tokens); };
  auto server = std::make_unique<http::server>(
      o, [&api](const request& req, http::responder out) { api.handle(req, out); }, is_health,
      [](int status, const std::string& code, const std::string& message) {
        return error_response(status, code, message);
      });
  const int bound = server->listen(address, port);
  impl_->authority = (address.find(':') != std::string::npos ? "[" + address + "]" : address) + ":" + std::to_string(bound);
  {
    std::unique_lock opening(impl_->gate->mutex);
    impl_->gate->open = true;
  }
  server->serve();
  impl_->server = std::move(server);
  return bound;
}

void http_api::stop() {
  {
    std::unique_lock closing(impl_->gate->mutex);
    impl_->gate->open = false;
  }
  if (impl_->server) impl_->server->stop();  // connections closed: their waits given up
  impl_->waits.cancel_all();                 // and any the server had not seen start
}

}  // namespace perdure
