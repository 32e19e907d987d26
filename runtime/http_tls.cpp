#include "http_tls.hpp"

#include <perdure/errors.hpp>

#include <openssl/ssl.h>

namespace perdure::http {

std::unique_ptr<boost::asio::ssl::context> make_server_tls_context(const std::filesystem::path& certificate_chain,
                                                                   const std::filesystem::path& private_key) {
  namespace ssl = boost::asio::ssl;
  auto context = std::make_unique<ssl::context>(ssl::context::tls_server);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  boost::system::error_code ec;
  context->use_certificate_chain_file(certificate_chain.string(), ec);
  if (ec)
    throw invalid_argument_error("cannot load the management API's certificate chain " + certificate_chain.string() +
                                 " (--api-tls-cert, PEM): " + ec.message());
  context->use_private_key_file(private_key.string(), ssl::context::pem, ec);
  if (ec)
    throw invalid_argument_error("cannot load the management API's private key " + private_key.string() +
                                 " (--api-tls-key, PEM, unencrypted): " + ec.message());
  if (SSL_CTX_check_private_key(context->native_handle()) != 1)
    throw invalid_argument_error("the private key " + private_key.string() + " does not belong to the certificate " +
                                 certificate_chain.string());
  return context;
}

}  // namespace perdure::http
