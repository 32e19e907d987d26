#include "jetstream.hpp"

#include <perdure/storage/store.hpp>

namespace perdure::storage {

jetstream_connection::jetstream_connection(jetstream_options options) : options_(std::move(options)) {
  std::vector<const char*> urls;
  std::string all;
  for (const auto& s : options_.servers) {
    urls.push_back(s.c_str());
    all += (all.empty() ? "" : ",") + s;
  }
  if (urls.empty()) throw store_error(errc::invalid_argument, "no NATS server given");
  auto fail = [&](natsStatus s) {
    const std::string why = describe("cannot connect to NATS at " + all, s, jsErrCode{});
    release();  // the constructor does not finish, so the destructor will not run
    throw store_error(errc::unavailable, why);
  };
  natsStatus s = natsOptions_Create(&nats_options_);
  if (s == NATS_OK) s = natsOptions_SetServers(nats_options_, urls.data(), static_cast<int>(urls.size()));
  if (s == NATS_OK) s = natsOptions_SetName(nats_options_, options_.name.c_str());
  if (s == NATS_OK) s = natsOptions_SetTimeout(nats_options_, options_.request_timeout.count());
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(nats_options_, -1);  // a node outlives any one server
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(nats_options_, 250);
  if (s == NATS_OK) s = natsConnection_Connect(&connection_, nats_options_);
  jsOptions js_options;
  if (s == NATS_OK) s = jsOptions_Init(&js_options);
  js_options.Wait = options_.request_timeout.count();
  if (s == NATS_OK) s = natsConnection_JetStream(&js_, connection_, &js_options);
  if (s != NATS_OK) fail(s);
}

jetstream_connection::~jetstream_connection() { release(); }

void jetstream_connection::release() noexcept {
  if (js_) jsCtx_Destroy(js_);
  js_ = nullptr;
  if (connection_) natsConnection_Destroy(connection_);
  connection_ = nullptr;
  if (nats_options_) natsOptions_Destroy(nats_options_);
  nats_options_ = nullptr;
}

bool transient(natsStatus status, jsErrCode code) noexcept {
  switch (status) {
    case NATS_TIMEOUT:
    case NATS_NO_RESPONDERS:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_IO_ERROR:
    case NATS_NO_SERVER:
      return true;
    default:
      break;
  }
  switch (code) {
    case JSClusterNotAvailErr:
    case JSClusterNotLeaderErr:
    case JSClusterIncompleteErr:
    case JSNotEnabledErr:  // answered by a server that lost its meta leader, until it has one again
    case JSStreamOfflineErr:
      return true;
    default:
      return false;
  }
}

std::string describe(std::string_view what, natsStatus status, jsErrCode code) {
  std::string text = std::string{what} + ": " + natsStatus_GetText(status);
  if (code != 0) text += " (JetStream error " + std::to_string(static_cast<int>(code)) + ")";
  return text;
}

void fail_jetstream(natsStatus status, jsErrCode code, const std::string& what) {
  throw store_error(transient(status, code) ? errc::unavailable : errc::io_error, describe(what, status, code));
}

void require_plain_name(std::string_view what, std::string_view name) {
  const bool plain = !name.empty() && name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                             "0123456789-_") == std::string_view::npos;
  if (!plain)
    throw store_error(errc::invalid_argument, std::string{what} + " '" + std::string{name} +
                                                  "' may hold only letters, digits, '-' and '_'");
}

kvStore* open_bucket(const jetstream_connection& connection, const std::string& bucket, int replicas,
                     std::chrono::nanoseconds ttl, const std::string& what) {
  kvConfig config;
  kvConfig_Init(&config);
  config.Bucket = bucket.c_str();
  config.History = 1;
  config.Replicas = replicas;
  // libnats 3.4.1 passes TTL on as the stream's max age, in nanoseconds (not the milliseconds of
  // later clients): the server refuses 1500 as "max age needs to be >= 100ms".
  config.TTL = ttl.count();
  const auto deadline = std::chrono::steady_clock::now() + connection.options().deadline;
  kvStore* kv = nullptr;
  for (;;) {
    jsErrCode code{};
    natsStatus s = retry_transient(connection, code, [&] { return js_CreateKeyValue(&kv, connection.context(), &config); });
    if (s == NATS_OK) return kv;
    s = retry_transient(connection, code, [&] { return js_KeyValue(&kv, connection.context(), config.Bucket); });
    if (s == NATS_OK) return kv;
    if (std::chrono::steady_clock::now() >= deadline) fail_jetstream(s, code, "cannot open " + what);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace perdure::storage
