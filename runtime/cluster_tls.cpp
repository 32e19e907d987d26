#include "cluster_tls.hpp"

#include <perdure/errors.hpp>

#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <memory>
#include <string>

namespace perdure {
namespace {

// OpenSSL's reasons for the last failure, oldest first.
std::string openssl_reason() {
  std::string reason;
  while (const unsigned long code = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    reason += (reason.empty() ? "" : "; ") + std::string(text);
  }
  return reason.empty() ? "unknown OpenSSL error" : reason;
}

void check_files(const tls_credentials& tls) {
  if (tls.certificate.empty() || tls.private_key.empty() || tls.ca.empty())
    throw invalid_argument_error(
        "TLS between nodes needs all three of --tls-cert, --tls-key and --tls-ca (the node's certificate, its key "
        "and the hub's CA)");
  const std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> context(SSL_CTX_new(TLS_method()), SSL_CTX_free);
  if (!context) throw error("cannot create an OpenSSL context: " + openssl_reason());
  ERR_clear_error();
  if (SSL_CTX_use_certificate_chain_file(context.get(), tls.certificate.c_str()) != 1)
    throw invalid_argument_error("cannot load the node's certificate " + tls.certificate.string() +
                                 " (--tls-cert, PEM): " + openssl_reason());
  if (SSL_CTX_use_PrivateKey_file(context.get(), tls.private_key.c_str(), SSL_FILETYPE_PEM) != 1)
    throw invalid_argument_error("cannot load the node's private key " + tls.private_key.string() +
                                 " (--tls-key, PEM, unencrypted): " + openssl_reason());
  if (SSL_CTX_check_private_key(context.get()) != 1)
    throw invalid_argument_error("the private key " + tls.private_key.string() +
                                 " does not belong to the certificate " + tls.certificate.string());
  if (SSL_CTX_load_verify_locations(context.get(), tls.ca.c_str(), nullptr) != 1)
    throw invalid_argument_error("cannot load the hub's CA certificate " + tls.ca.string() + " (--tls-ca, PEM): " +
                                 openssl_reason());
}

}  // namespace

void use_cluster_tls(caf::actor_system_config& config, const tls_credentials& tls) {
  check_files(tls);
  config.load<caf::openssl::manager>();
  config.openssl_certificate = tls.certificate.string();
  config.openssl_key = tls.private_key.string();
  config.openssl_cafile = tls.ca.string();
}

}  // namespace perdure
