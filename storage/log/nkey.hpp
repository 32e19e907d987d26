// NATS NKeys (Ed25519 keys in NATS's text form: a type prefix, base32, a CRC16 checksum): the public
// key of a user's seed, which libnats needs beside the seed file to answer a server's nonce.
#pragma once

#include <string>
#include <string_view>

namespace perdure::storage {

/// The public key ("U...") of the user NKey seed `seed` ("SU...", as `nk -gen user` writes it).
/// Throws store_error(errc::invalid_argument) saying what is wrong when `seed` is not a user seed
/// with a valid checksum.
std::string nkey_user_public_key(std::string_view seed);

}  // namespace perdure::storage
