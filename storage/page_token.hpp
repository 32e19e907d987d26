// The one format of list continuation tokens: a kind byte and the listing's position, as lowercase
// hex (they travel in URLs and JSON). The kind byte keeps an instance listing's token from being
// taken by an entity listing and the other way round.
#pragma once

#include <string>
#include <string_view>

namespace perdure::storage {

enum class page_token_kind : char { instances = 1, entities = 2 };

std::string encode_page_token(page_token_kind kind, std::string_view position);
/// The position a token encodes; throws store_error(invalid_argument) for a malformed token or one
/// of another kind of listing.
std::string decode_page_token(page_token_kind kind, std::string_view token);

}  // namespace perdure::storage
