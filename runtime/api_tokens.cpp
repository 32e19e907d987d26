#include "api_tokens.hpp"

#include <perdure/errors.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

namespace perdure {
namespace {

constexpr size_t min_token_size = 16;
constexpr size_t max_token_size = 256;

bool printable_without_spaces(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c > ' ' && c < 127; });
}

}  // namespace

api_tokens::digest api_tokens::hash(std::string_view text) {
  digest out{};
  unsigned int size = 0;
  if (EVP_Digest(text.data(), text.size(), out.data(), &size, EVP_sha256(), nullptr) != 1 || size != out.size())
    throw error("cannot compute a SHA-256 digest (OpenSSL failed)");
  return out;
}

api_tokens api_tokens::load(const std::filesystem::path& file) {
  const std::string where = "the API token file " + file.string();
  std::ifstream in(file);
  if (!in) throw invalid_argument_error("cannot read " + where + " (--api-token-file)");
  api_tokens tokens;
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::istringstream words(line);
    std::string role, token, extra;
    words >> role;
    if (role.empty() || role.starts_with('#')) continue;
    words >> token >> extra;
    const std::string at = where + ", line " + std::to_string(number) + ": ";
    if (role != "read" && role != "admin")
      throw invalid_argument_error(at + "the role must be 'read' or 'admin', not '" + role + "' (format: ROLE TOKEN)");
    if (token.empty() || !extra.empty())
      throw invalid_argument_error(at + "expected 'ROLE TOKEN': one role and one token without spaces");
    if (token.size() < min_token_size || token.size() > max_token_size || !printable_without_spaces(token))
      throw invalid_argument_error(at + "a token must be " + std::to_string(min_token_size) + " to " +
                                   std::to_string(max_token_size) +
                                   " printable ASCII characters (e.g. `openssl rand -hex 32`)");
    const digest h = hash(token);
    if (std::any_of(tokens.tokens_.begin(), tokens.tokens_.end(), [&](const entry& e) { return e.hash == h; }))
      throw invalid_argument_error(at + "this token is already listed above: give each token one role");
    tokens.tokens_.push_back(entry{h, role == "admin" ? api_role::admin : api_role::read});
  }
  if (tokens.tokens_.empty()) throw invalid_argument_error(where + " holds no token (format: one 'ROLE TOKEN' per line)");
  return tokens;
}

std::optional<api_role> api_tokens::role_of(std::string_view presented) const {
  const digest candidate = hash(presented);
  std::optional<api_role> found;
  // Every entry is compared, matched or not, so the time taken does not depend on which matched.
  for (const auto& e : tokens_)
    if (CRYPTO_memcmp(candidate.data(), e.hash.data(), candidate.size()) == 0) found = e.role;
  return found;
}

}  // namespace perdure
