#include "nkey.hpp"

#include <perdure/storage/store.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace perdure::storage {
namespace {

// The prefixes NKeys put before a key, in the first byte's top five bits (nats-io/nkeys).
constexpr uint8_t seed_prefix = 18 << 3;  // 'S'
constexpr uint8_t user_prefix = 20 << 3;  // 'U'

constexpr std::string_view base32_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

// CRC-16/XMODEM (polynomial 0x1021, initial value 0), the checksum NKeys append, little endian.
uint16_t crc16(const uint8_t* data, size_t size) {
  uint16_t crc = 0;
  for (size_t i = 0; i < size; ++i) {
    crc ^= static_cast<uint16_t>(data[i]) << 8;
    for (int bit = 0; bit < 8; ++bit)
      crc = static_cast<uint16_t>((crc & 0x8000) ? (crc << 1) ^ 0x1021 : crc << 1);
  }
  return crc;
}

[[noreturn]] void invalid_seed(const std::string& why) {
  throw store_error(errc::invalid_argument, "not a NATS user NKey seed (" + why + "); `nk -gen user` makes one");
}

// RFC 4648 base32 without padding; the bits left over at the end are dropped.
std::vector<uint8_t> base32_decode(std::string_view text) {
  std::vector<uint8_t> out;
  uint32_t buffer = 0;
  int bits = 0;
  for (const char c : text) {
    const auto value = base32_alphabet.find(c);
    if (value == std::string_view::npos) invalid_seed(std::string{"the character '"} + c + "' is not base32");
    buffer = (buffer << 5) | static_cast<uint32_t>(value);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<uint8_t>(buffer >> bits));
    }
  }
  return out;
}

std::string base32_encode(const std::vector<uint8_t>& data) {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (const uint8_t byte : data) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out.push_back(base32_alphabet[(buffer >> bits) & 31]);
    }
  }
  if (bits > 0) out.push_back(base32_alphabet[(buffer << (5 - bits)) & 31]);
  return out;
}

}  // namespace

std::string nkey_user_public_key(std::string_view seed) {
  auto raw = base32_decode(seed);
  struct wiped {  // the seed's secret bytes, whatever happens below
    std::vector<uint8_t>& bytes;
    ~wiped() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
  } wipe{raw};
  // Two prefix bytes, the 32-byte Ed25519 seed, the checksum.
  if (raw.size() != 36) invalid_seed(std::to_string(seed.size()) + " characters");
  const uint16_t stored = static_cast<uint16_t>(raw[34] | (raw[35] << 8));
  if (crc16(raw.data(), 34) != stored) invalid_seed("its checksum does not match");
  const uint8_t type = static_cast<uint8_t>(((raw[0] & 7) << 5) | ((raw[1] & 0xf8) >> 3));
  if ((raw[0] & 0xf8) != seed_prefix || type != user_prefix)
    invalid_seed("it does not start with SU, the prefix of a user's seed");

  const std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, raw.data() + 2, 32), EVP_PKEY_free);
  std::vector<uint8_t> public_key(1 + 32);
  size_t length = 32;
  if (!key || EVP_PKEY_get_raw_public_key(key.get(), public_key.data() + 1, &length) != 1 || length != 32)
    throw store_error(errc::io_error, "OpenSSL cannot derive the Ed25519 public key of an NKey seed");
  public_key[0] = user_prefix;
  const uint16_t checksum = crc16(public_key.data(), public_key.size());
  public_key.push_back(static_cast<uint8_t>(checksum & 0xff));
  public_key.push_back(static_cast<uint8_t>(checksum >> 8));
  return base32_encode(public_key);
}

}  // namespace perdure::storage
