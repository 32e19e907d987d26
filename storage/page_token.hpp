// The one format of the opaque tokens Perdure hands out (list continuation tokens, activity task
// tokens): a kind byte and what the token stands for, as lowercase hex (they travel in URLs and
// JSON). The kind byte keeps a token of one kind from being taken for another.
#pragma once

#include <string>
#include <string_view>

namespace perdure::storage {

enum class page_token_kind : char { instances = 1, entities = 2, activity_task = 3 };

std::string encode_page_token(page_token_kind kind, std::string_view position);
/// The position a token encodes; throws store_error(invalid_argument) for a malformed token or one
/// of another kind.
std::string decode_page_token(page_token_kind kind, std::string_view token);

}  // namespace perdure::storage
