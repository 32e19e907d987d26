#include "jetstream.hpp"

#include "nkey.hpp"

#include <perdure/storage/store.hpp>

#include <openssl/crypto.h>

#include <filesystem>
#include <fstream>

namespace perdure::storage {

namespace {

// The text libnats kept about this thread's last failure ("Authorization Violation", an OpenSSL
// reason) without the "(conn.c:1905): " it starts with, or empty.
std::string last_nats_error() {
  natsStatus ignored = NATS_OK;
  const char* text = nats_GetLastError(&ignored);
  std::string reason = text ? text : "";
  if (const auto end = reason.find("): "); reason.starts_with('(') && end != std::string::npos)
    reason.erase(0, end + 3);
  return reason;
}

std::string credentials_given(const nats_access& a) {
  if (!a.user.empty()) return "user '" + a.user + "' with a password";
  if (!a.token.empty()) return "a token";
  if (!a.nkey_seed_file.empty()) return "the NKey whose seed is in " + a.nkey_seed_file.string();
  if (!a.credentials_file.empty()) return "the credentials in " + a.credentials_file.string();
  return "none";
}

// What the servers' refusal of a connection means for the operator, by libnats status.
std::string connect_advice(natsStatus status, const nats_access& a) {
  switch (status) {
    case NATS_CONNECTION_AUTH_FAILED:
    case NATS_NOT_PERMITTED:
      return "the NATS servers refused this node's credentials (" + credentials_given(a) +
             "): pass those of a user their authorization or accounts block lists, with --nats-user and "
             "--nats-password, --nats-token, --nats-nkey-seed or --nats-creds";
    case NATS_SSL_ERROR:
      return a.tls_ca.empty()
                 ? "the NATS servers take TLS connections: pass --nats-tls-ca with the CA that signed their "
                   "certificates"
                 : "the TLS handshake with the NATS servers failed: is their certificate signed by " +
                       a.tls_ca.string() + " and does it name the host in the URL?";
    case NATS_SECURE_CONNECTION_WANTED:
      return "TLS is configured (--nats-tls-ca/--nats-tls-cert) but the NATS servers do not offer it";
    case NATS_SECURE_CONNECTION_REQUIRED:
      return "the NATS servers take TLS connections only: pass --nats-tls-ca";
    case NATS_PROTOCOL_ERROR:
      // A server with `tls { verify: true }` closes the connection of a client without a certificate
      // before answering its first PING.
      if (a.tls() && a.tls_cert.empty())
        return "the NATS servers closed the connection: if they verify clients (tls { verify: true }), pass "
               "--nats-tls-cert and --nats-tls-key";
      return {};
    default:
      return {};
  }
}

// Refuses settings libnats would take in silence or use half (a certificate without its key, two
// kinds of credentials: only one would be sent).
void check_access(const nats_access& a) {
  if (a.tls_cert.empty() != a.tls_key.empty())
    throw store_error(errc::invalid_argument,
                      "--nats-tls-cert and --nats-tls-key go together: this node's certificate for the NATS servers "
                      "and its private key");
  if (a.user.empty() != a.password.empty())
    throw store_error(errc::invalid_argument, "--nats-user and --nats-password go together");
  const int kinds = int{!a.user.empty()} + int{!a.token.empty()} + int{!a.nkey_seed_file.empty()} +
                    int{!a.credentials_file.empty()};
  if (kinds > 1)
    throw store_error(errc::invalid_argument,
                      "give one kind of NATS credentials: --nats-user and --nats-password, --nats-token, "
                      "--nats-nkey-seed or --nats-creds");
  std::error_code ec;
  if (!a.credentials_file.empty() && !std::filesystem::is_regular_file(a.credentials_file, ec))
    throw store_error(errc::invalid_argument, "no NATS credentials file " + a.credentials_file.string() +
                                                  " (--nats-creds)");
}

// The public key of the user NKey seed in `file` (its first line), which libnats wants beside the
// file; the seed read here is wiped.
std::string nkey_public_key_in(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::string seed;
  if (!in || !std::getline(in, seed))
    throw store_error(errc::invalid_argument, "cannot read the NKey seed file " + file.string() + " (--nats-nkey-seed)");
  while (!seed.empty() && (seed.back() == '\r' || seed.back() == ' ')) seed.pop_back();
  struct wiped {
    std::string& text;
    ~wiped() { OPENSSL_cleanse(text.data(), text.size()); }
  } wipe{seed};
  try {
    return nkey_user_public_key(seed);
  } catch (const store_error& e) {
    throw store_error(errc::invalid_argument, file.string() + " (--nats-nkey-seed) is " + e.what());
  }
}

// Loads `access` into `options`; a file libnats cannot load is named with its reason.
natsStatus apply_access(natsOptions* options, const nats_access& a) {
  const auto load_failure = [](natsStatus s, const std::string& what) {
    throw store_error(errc::invalid_argument, "cannot load " + what + ": " + natsStatus_GetText(s) + " " +
                                                  last_nats_error());
  };
  natsStatus s = NATS_OK;
  if (a.tls()) {
    if ((s = natsOptions_SetSecure(options, true)) != NATS_OK) return s;
    if (!a.tls_ca.empty() &&
        (s = natsOptions_LoadCATrustedCertificates(options, a.tls_ca.c_str())) != NATS_OK)
      load_failure(s, "the NATS servers' CA " + a.tls_ca.string() + " (--nats-tls-ca, PEM)");
    if (!a.tls_cert.empty() &&
        (s = natsOptions_LoadCertificatesChain(options, a.tls_cert.c_str(), a.tls_key.c_str())) != NATS_OK)
      load_failure(s, "the certificate " + a.tls_cert.string() + " and key " + a.tls_key.string() +
                          " for NATS (--nats-tls-cert, --nats-tls-key, PEM)");
  }
  if (!a.user.empty()) s = natsOptions_SetUserInfo(options, a.user.c_str(), a.password.c_str());
  if (s == NATS_OK && !a.token.empty()) s = natsOptions_SetToken(options, a.token.c_str());
  if (s == NATS_OK && !a.nkey_seed_file.empty())
    s = natsOptions_SetNKeyFromSeed(options, nkey_public_key_in(a.nkey_seed_file).c_str(), a.nkey_seed_file.c_str());
  if (s == NATS_OK && !a.credentials_file.empty())
    s = natsOptions_SetUserCredentialsFromFiles(options, a.credentials_file.c_str(), nullptr);
  return s;
}

}  // namespace

jetstream_connection::jetstream_connection(jetstream_options options) : options_(std::move(options)) {
  std::vector<const char*> urls;
  std::string all;
  for (const auto& s : options_.servers) {
    urls.push_back(s.c_str());
    all += (all.empty() ? "" : ",") + s;
  }
  if (urls.empty()) throw store_error(errc::invalid_argument, "no NATS server given");
  check_access(options_.access);
  auto fail = [&](natsStatus s) {
    std::string why = describe("cannot connect to NATS at " + all, s, jsErrCode{});
    if (const auto detail = last_nats_error(); !detail.empty()) why += " (" + detail + ")";
    if (const auto advice = connect_advice(s, options_.access); !advice.empty()) why += "; " + advice;
    release();  // the constructor does not finish, so the destructor will not run
    throw store_error(errc::unavailable, why);
  };
  natsStatus s = natsOptions_Create(&nats_options_);
  if (s == NATS_OK) s = natsOptions_SetServers(nats_options_, urls.data(), static_cast<int>(urls.size()));
  if (s == NATS_OK) s = natsOptions_SetName(nats_options_, options_.name.c_str());
  if (s == NATS_OK) s = natsOptions_SetTimeout(nats_options_, options_.request_timeout.count());
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(nats_options_, -1);  // a node outlives any one server
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(nats_options_, 250);
  if (s == NATS_OK) {
    try {
      s = apply_access(nats_options_, options_.access);
    } catch (...) {
      release();
      throw;
    }
  }
  if (s == NATS_OK) s = connect_signing_around_libnats_bug();
  jsOptions js_options;
  if (s == NATS_OK) s = jsOptions_Init(&js_options);
  js_options.Wait = options_.request_timeout.count();
  if (s == NATS_OK) s = natsConnection_JetStream(&js_, connection_, &js_options);
  if (s != NATS_OK) fail(s);
}

// libnats 3.4.1 leaves the signature out of CONNECT when its first byte is zero (nats.c#705, fixed in
// 3.8), so one connection in 256 that signs the server's nonce (an NKey seed, a credentials file) is
// refused although its credentials are right. Each attempt signs a new nonce: eight attempts fail for
// that reason once in 2^64, while wrong credentials are still refused, just 8 times over.
natsStatus jetstream_connection::connect_signing_around_libnats_bug() {
  const bool signs = !options_.access.nkey_seed_file.empty() || !options_.access.credentials_file.empty();
  const int attempts = signs ? 8 : 1;
  natsStatus s = NATS_OK;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    s = natsConnection_Connect(&connection_, nats_options_);
    if (s != NATS_CONNECTION_AUTH_FAILED) break;
  }
  return s;
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

void ensure_stream(const jetstream_connection& connection, jsStreamConfig& config, const std::string& what) {
  jsErrCode code{};
  jsStreamInfo* info = nullptr;
  const natsStatus s = retry_transient(connection, code, [&] {
    return js_AddStream(&info, connection.context(), &config, nullptr, &code);
  });
  if (info) jsStreamInfo_Destroy(info);
  if (s == NATS_OK || code == JSStreamNameExistErr) return;
  fail_jetstream(s, code, "cannot create " + what);
}

size_t max_message_bytes(const jetstream_connection& connection) {
  const int64_t limit = natsConnection_GetMaxPayload(connection.connection());
  return static_cast<size_t>(std::max<int64_t>(limit - 512, 4096));
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
    natsStatus created = retry_transient(connection, code, [&] { return js_CreateKeyValue(&kv, connection.context(), &config); });
    if (created == NATS_OK) return kv;
    // Why the servers refused to create it (more replicas than servers, say), before the open below
    // overwrites libnats's last error with a plain "not found".
    const jsErrCode create_code = code;
    const std::string create_reason = last_nats_error();
    const natsStatus opened = retry_transient(connection, code, [&] { return js_KeyValue(&kv, connection.context(), config.Bucket); });
    if (opened == NATS_OK) return kv;
    if (std::chrono::steady_clock::now() >= deadline) {
      if (opened != NATS_NOT_FOUND) fail_jetstream(opened, code, "cannot open " + what);
      fail_jetstream(created, create_code,
                     "cannot create " + what + " with " + std::to_string(replicas) + " replicas" +
                         (create_reason.empty() ? std::string{} : " (" + create_reason + ")"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace perdure::storage
