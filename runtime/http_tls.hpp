// The management API's TLS context (Boost.Asio over OpenSSL): the node's certificate chain and key,
// TLS 1.2 or later only.
#pragma once

#include <boost/asio/ssl/context.hpp>

#include <filesystem>
#include <memory>

namespace perdure::http {

/// Throws perdure::invalid_argument_error naming the file and OpenSSL's reason when the chain or
/// the key cannot be loaded, or the key does not belong to the certificate.
std::unique_ptr<boost::asio::ssl::context> make_server_tls_context(const std::filesystem::path& certificate_chain,
                                                                   const std::filesystem::path& private_key);

}  // namespace perdure::http
