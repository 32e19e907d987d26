// How a node proves itself to its NATS servers and checks theirs (docs/security.md, "NATS"): TLS
// with the servers' CA (and this node's certificate, for servers that verify clients) and at most
// one kind of credentials, as the servers' `authorization` or `accounts` block asks for.
#pragma once

#include <filesystem>
#include <string>

namespace perdure {

struct nats_access {
  // TLS. With a CA the node speaks TLS only and accepts only servers whose certificate that CA
  // signed for the host named in the URL.
  std::filesystem::path tls_ca;    // PEM
  std::filesystem::path tls_cert;  // PEM, this node's certificate chain (servers with `verify: true`)
  std::filesystem::path tls_key;   // PEM, its unencrypted private key
  // Credentials: one of these (or none, for servers without authorization).
  std::string user;  // with password: a user of the servers' `users` lists
  std::string password;
  std::string token;                        // the servers' `authorization { token: ... }`
  std::filesystem::path nkey_seed_file;    // a user NKey seed ("SU...", `nk -gen user`) the servers list the public key of
  std::filesystem::path credentials_file;  // a .creds file (user JWT and NKey seed) of an operator-mode setup

  bool tls() const noexcept { return !tls_ca.empty() || !tls_cert.empty() || !tls_key.empty(); }
};

}  // namespace perdure
