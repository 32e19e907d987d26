#include "page_token.hpp"

#include <perdure/storage/store.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <span>

namespace perdure::storage {

namespace {

[[noreturn]] void bad_token(page_token_kind kind, std::string_view why) {
  if (kind == page_token_kind::activity_task)
    throw store_error(errc::invalid_argument, "malformed activity task token (" + std::string(why) +
                                                  "); pass the token activity_context::complete_asynchronously() gave as is");
  throw store_error(errc::invalid_argument,
                    "malformed continuation token (" + std::string(why) + "); pass the token of the previous page as is");
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

std::string encode_page_token(page_token_kind kind, std::string_view position) {
  std::string raw(1, static_cast<char>(kind));
  raw.append(position);
  return fmt::format("{:02x}", fmt::join(std::span(reinterpret_cast<const unsigned char*>(raw.data()), raw.size()), ""));
}

std::string decode_page_token(page_token_kind kind, std::string_view token) {
  if (token.size() % 2 != 0) bad_token(kind, "odd length");
  std::string raw;
  for (size_t i = 0; i < token.size(); i += 2) {
    int hi = hex_value(token[i]), lo = hex_value(token[i + 1]);
    if (hi < 0 || lo < 0) bad_token(kind, "not lowercase hex");
    raw.push_back(static_cast<char>(hi << 4 | lo));
  }
  if (raw.size() < 2) bad_token(kind, "too short");
  if (raw[0] != static_cast<char>(kind)) bad_token(kind, "a token of another kind");
  return raw.substr(1);
}

}  // namespace perdure::storage
