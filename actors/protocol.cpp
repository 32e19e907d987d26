#include "protocol.hpp"

#include "client_errors.hpp"

#include <perdure/errors.hpp>

#include "storage/codec.hpp"

#include <caf/all.hpp>

namespace perdure::actors {

namespace {
std::string context_text(const caf::error& err) {
  if (err.context().match_elements<std::string>()) return err.context().get_as<std::string>(0);
  return caf::to_string(err);
}
}  // namespace

client_errc to_client_errc(errc code) noexcept {
  switch (code) {
    case errc::instance_not_found: return client_errc::not_found;
    case errc::instance_already_exists: return client_errc::already_exists;
    case errc::invalid_argument:
    case errc::payload: return client_errc::invalid_argument;
    case errc::unknown_function: return client_errc::unknown_function;
    case errc::unavailable: return client_errc::unavailable;
    case errc::instance_finished: return client_errc::instance_finished;
    case errc::storage_failure: return client_errc::storage_failure;
    case errc::activity_not_open: return client_errc::activity_not_open;
    case errc::instance_status_conflict: return client_errc::status_conflict;
    case errc::failed:
    case errc::task_failed:
    case errc::nondeterminism:
    case errc::timeout:
    case errc::cannot_listen: return client_errc::failed;
  }
  return client_errc::failed;
}

errc to_errc(client_errc code) noexcept {
  switch (code) {
    case client_errc::not_found: return errc::instance_not_found;
    case client_errc::already_exists: return errc::instance_already_exists;
    case client_errc::invalid_argument: return errc::invalid_argument;
    case client_errc::unknown_function: return errc::unknown_function;
    case client_errc::unavailable:
    case client_errc::busy: return errc::unavailable;
    case client_errc::instance_finished: return errc::instance_finished;
    case client_errc::storage_failure: return errc::storage_failure;
    case client_errc::status_conflict: return errc::instance_status_conflict;
    case client_errc::failed: return errc::failed;
    case client_errc::activity_not_open: return errc::activity_not_open;
  }
  return errc::failed;
}

caf::error make_client_error(std::exception_ptr failure) {
  try {
    std::rethrow_exception(failure);
  } catch (const error& e) {
    return make_client_error(to_client_errc(client_errc_of(e.code())), e.what());
  } catch (const std::exception& e) {
    return make_client_error(client_errc::failed, std::string{"internal error: "} + e.what());
  } catch (...) {
    return make_client_error(client_errc::failed, "internal error: an exception of unknown type");
  }
}

void throw_client_error(const caf::error& err, const std::string& instance_id) {
  if (err.category() != caf::atom("perdure")) {
    if (err == caf::sec::request_timeout) throw timeout_error("timed out waiting for instance '" + instance_id + "'");
    // The node serving the call went down during it (its partitions move or come back): the same
    // answer as a call that finds the owner unreachable.
    if (err == caf::sec::request_receiver_down)
      throw_error(errc::unavailable,
                  "the node serving the call went down during it; retry in a few seconds (" + caf::to_string(err) + ")",
                  instance_id);
    throw error("node error: " + caf::to_string(err));
  }
  throw_error(to_errc(static_cast<client_errc>(err.code())), context_text(err), instance_id);
}

std::string encode_message(const message& msg) {
  std::string out;
  storage::codec::encode_message(msg, out);
  return out;
}

message decode_message(const std::string& bytes) { return storage::codec::decode_message(bytes, {"network", "message"}); }

std::string encode_record(const instance_record& record) {
  std::string out;
  storage::codec::encode_row(record, 0, out);
  return out;
}

instance_record decode_record(const std::string& bytes) {
  return storage::codec::decode_row(bytes, {"network", "instance record"}).record;
}

std::string encode_entity(const entity_record& entity) {
  std::string out;
  storage::entity_commit row;
  row.instance_id = entity.id.instance_id();
  row.record = entity;
  storage::codec::encode_entity(row, out);
  return out;
}

entity_record decode_entity(const std::string& bytes) {
  auto stored = storage::codec::decode_entity(bytes, {"network", "entity record"});
  if (!stored.record) throw storage::store_error(storage::errc::corrupt_record, "an entity record sent without its state");
  return std::move(*stored.record);
}

std::string encode_event(const history_event& event) {
  std::string out;
  storage::codec::encode_event(event, out);
  return out;
}

history_event decode_event(const std::string& bytes) { return storage::codec::decode_event(bytes, {"network", "event"}); }

std::string encode_task(const storage::activity_task& task) {
  std::string out;
  storage::codec::encode_activity(task, out);
  return out;
}

storage::activity_task decode_task(const std::string& bytes) {
  return storage::codec::decode_activity(bytes, {"network", "activity"});
}

wire_query to_wire(const storage::instance_query& query) {
  wire_query w;
  for (auto s : query.statuses) w.statuses.push_back(static_cast<uint8_t>(s));
  w.name = query.name;
  w.has_from = query.created_from.has_value();
  if (w.has_from) w.from_ns = query.created_from->time_since_epoch().count();
  w.has_to = query.created_to.has_value();
  if (w.has_to) w.to_ns = query.created_to->time_since_epoch().count();
  w.instance_id_prefix = query.instance_id_prefix;
  w.page_size = query.page_size;
  w.continuation_token = query.continuation_token;
  w.has_version = query.version.has_value();
  if (w.has_version) w.version = *query.version;
  w.waiting_for_version = query.waiting_for_version;
  return w;
}

storage::instance_query from_wire(const wire_query& w) {
  storage::instance_query q;
  for (auto s : w.statuses) {
    if (s >= all_runtime_statuses.size()) throw invalid_argument_error("unknown runtime status " + std::to_string(s));
    q.statuses.push_back(static_cast<runtime_status>(s));
  }
  q.name = w.name;
  if (w.has_from) q.created_from = time_point{std::chrono::nanoseconds{w.from_ns}};
  if (w.has_to) q.created_to = time_point{std::chrono::nanoseconds{w.to_ns}};
  q.instance_id_prefix = w.instance_id_prefix;
  q.page_size = static_cast<size_t>(w.page_size);
  q.continuation_token = w.continuation_token;
  if (w.has_version) q.version = w.version;
  q.waiting_for_version = w.waiting_for_version;
  return q;
}

wire_entity_query to_wire(const entity_query& query) {
  return wire_entity_query{query.name, query.key_prefix, query.page_size, query.continuation_token};
}

entity_query from_wire(const wire_entity_query& w) {
  return entity_query{w.name, w.key_prefix, static_cast<size_t>(w.page_size), w.continuation_token};
}

void register_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<node_hello>("pd_node_hello");
  cfg.add_message_type<wire_message>("pd_wire_message");
  cfg.add_message_type<wire_batch>("pd_wire_batch");
  cfg.add_message_type<call_batch>("pd_call_batch");
  cfg.add_message_type<reply_batch>("pd_reply_batch");
  cfg.add_message_type<wire_activity>("pd_wire_activity");
  cfg.add_message_type<wire_query>("pd_wire_query");
  cfg.add_message_type<wire_entity_query>("pd_wire_entity_query");
  cfg.add_message_type<wire_page>("pd_wire_page");
  cfg.add_message_type<wire_history>("pd_wire_history");
  cfg.add_message_type<wire_stats>("pd_wire_stats");
  cfg.add_error_category(caf::atom("perdure"), [](uint8_t code, caf::atom_value, const caf::message& context) -> std::string {
    std::string text = context.match_elements<std::string>() ? context.get_as<std::string>(0) : std::string{};
    return "perdure error " + std::to_string(code) + ": " + text;
  });
}

}  // namespace perdure::actors
