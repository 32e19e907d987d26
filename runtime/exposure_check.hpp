// Refuses a node that would let anyone who reaches it in: its management API or its cluster port
// bound to an address other than loopback, without the protection that port can have.
#pragma once

#include <perdure/host.hpp>

#include <string_view>

namespace perdure {

/// Whether `address` (an IP address or a host name) is this machine's loopback: 127.0.0.0/8, ::1,
/// or "localhost". Any other name counts as exposed, since it may resolve to any interface.
bool is_loopback_address(std::string_view address);

/// Throws perdure::invalid_argument_error saying which port is exposed and what to pass, unless
/// `options.insecure`: the management API on a non-loopback address needs TLS (api_tls_cert and
/// api_tls_key) and tokens (api_token_file); the cluster port on a non-loopback address needs
/// mutual TLS (cluster_tls).
void refuse_exposed_ports(const node_options& options);

}  // namespace perdure
