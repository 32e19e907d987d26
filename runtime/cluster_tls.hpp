// Mutual TLS between nodes: CAF's OpenSSL module (libcaf_openssl 0.17.6) with this side's
// certificate and key and the hub's CA. With it, both ends of every BASP connection must present
// a certificate the CA signed (SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT); the names in
// the certificates are not checked, the CA is the membership's gate.
#pragma once

#include <perdure/client.hpp>

#include <caf/actor_system_config.hpp>

namespace perdure {

/// Loads CAF's OpenSSL module into `config` (after its middleman) with `tls`'s files. The files are
/// checked here first, since CAF reads them again for every connection and fails that connection
/// (or worse) on a bad file: throws perdure::invalid_argument_error naming the file and OpenSSL's
/// reason when one cannot be loaded, or the key does not belong to the certificate.
void use_cluster_tls(caf::actor_system_config& config, const tls_credentials& tls);

}  // namespace perdure
