#include "http_page_size.hpp"

#include "http_errors.hpp"

#include <stdexcept>
#include <string>

namespace perdure {

size_t requested_page_size(const http::request& req, std::string_view parameter) {
  const std::string name{parameter};
  if (!req.has_param(name)) return default_page_size;
  const std::string value = req.param(name);
  size_t parsed = 0;
  size_t used = 0;
  try {
    parsed = std::stoul(value, &used);
  } catch (const std::logic_error&) {
    used = 0;
  }
  if (used == 0 || used != value.size() || parsed < 1 || parsed > max_page_size)
    throw http_error(400, "InvalidArgument",
                     name + " must be a number from 1 to " + std::to_string(max_page_size) + ", not '" + value + "'");
  return parsed;
}

}  // namespace perdure
