// The page size a listing request asks for, by whichever query parameter that listing names it
// (`top` for instances, `pageSize` for entities): the same bounds and the same error for both.
#pragma once

#include "http_server.hpp"

#include <cstddef>
#include <string_view>

namespace perdure {

inline constexpr size_t default_page_size = 100;
inline constexpr size_t max_page_size = 1000;

/// The parameter's value, default_page_size when it is absent. Throws http_error 400
/// InvalidArgument unless it is a number from 1 to max_page_size.
size_t requested_page_size(const http::request& req, std::string_view parameter);

}  // namespace perdure
