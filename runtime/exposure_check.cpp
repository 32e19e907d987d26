#include "exposure_check.hpp"

#include "actors/cluster_membership.hpp"

#include <perdure/errors.hpp>

#include <boost/asio/ip/address.hpp>

#include <string>

namespace perdure {

bool is_loopback_address(std::string_view address) {
  if (address == "localhost") return true;
  std::string text(address);
  if (text.size() > 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  boost::system::error_code ec;
  const auto ip = boost::asio::ip::make_address(text, ec);
  if (ec) return false;
  if (ip.is_v6() && ip.to_v6().is_v4_mapped())
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, ip.to_v6()).is_loopback();
  return ip.is_loopback();
}

void refuse_exposed_ports(const node_options& options) {
  if (options.insecure) return;
  if (options.http_port >= 0 && !is_loopback_address(options.http_address)) {
    std::string missing;
    if (options.api_tls_cert.empty()) missing = "--api-tls-cert and --api-tls-key (HTTPS)";
    if (options.api_token_file.empty())
      missing += (missing.empty() ? "" : " and ") + std::string("--api-token-file (bearer tokens)");
    if (!missing.empty())
      throw invalid_argument_error(
          "refusing to serve the management API on " + options.http_address +
          ", which is not a loopback address, without " + missing +
          ": anyone who reaches that port could read every instance and start, terminate or purge them. Pass " +
          missing + ", bind --http-address 127.0.0.1, or pass --insecure if every host on that network is trusted "
          "(docs/security.md)");
  }
  if (options.members.empty()) return;
  const auto membership = actors::cluster_membership::parse(options.members, options.node_id);
  const std::string& address = options.listen_address.empty() ? membership.self().host : options.listen_address;
  if (!is_loopback_address(address) && options.cluster_tls.empty())
    throw invalid_argument_error(
        "refusing to listen for the cluster's members on " + address +
        ", which is not a loopback address, without --tls-cert, --tls-key and --tls-ca (mutual TLS between the "
        "members): anyone who reaches that port could run any command on the hub. Pass them (scripts/"
        "make-test-certs.sh makes test certificates), keep the members on loopback, or pass --insecure if only "
        "the members can reach that network (docs/security.md)");
}

}  // namespace perdure
