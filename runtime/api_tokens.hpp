// The bearer tokens of the management API (--api-token-file) and the role each one grants.
//
// File format (docs/security.md): one token per line, `ROLE TOKEN`, ROLE being `read` (may query)
// or `admin` (may also change: start, raise, terminate, purge, ...). Blank lines and lines starting
// with '#' are ignored. A token is 16 to 256 printable ASCII characters without spaces.
//
// Tokens are kept as SHA-256 digests and a presented token is compared with every one of them in
// constant time, so the time an answer takes says nothing about how much of a token was right.
#pragma once

#include <array>
#include <filesystem>
#include <optional>
#include <string_view>
#include <vector>

namespace perdure {

enum class api_role { read, admin };

class api_tokens {
 public:
  /// Reads a token file. Throws perdure::invalid_argument_error naming the file (and the line)
  /// when it cannot be read, holds no token, or a line is not `read TOKEN` / `admin TOKEN`.
  static api_tokens load(const std::filesystem::path& file);

  /// The role of `presented`, or nullopt when it is none of the tokens.
  std::optional<api_role> role_of(std::string_view presented) const;

  size_t size() const noexcept { return tokens_.size(); }

 private:
  using digest = std::array<unsigned char, 32>;
  struct entry {
    digest hash;
    api_role role;
  };
  static digest hash(std::string_view text);

  std::vector<entry> tokens_;
};

}  // namespace perdure
