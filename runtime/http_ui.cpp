#include "http_ui.hpp"

#include "http_errors.hpp"
#include "http_instance_counts.hpp"
#include "ui_files.hpp"

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace perdure {
namespace {

using http::request;
using http::response;

// The page may talk to this node only: a browser then refuses any request elsewhere, whatever a
// script or a payload shown on the page would try.
constexpr const char* content_security_policy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

std::string_view content_type_of(std::string_view path) {
  if (path.ends_with(".html")) return "text/html; charset=utf-8";
  if (path.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (path.ends_with(".css")) return "text/css; charset=utf-8";
  return "application/octet-stream";
}

// FNV-1a: a content hash for the ETag, so that a browser revalidates cheaply and a new build's
// files replace the old ones at once.
std::string etag_of(std::string_view bytes) {
  uint64_t hash = 14695981039346656037ull;
  for (const char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ull;
  }
  char text[24];
  std::snprintf(text, sizeof text, "\"%016llx\"", static_cast<unsigned long long>(hash));
  return text;
}

struct served_file {
  std::string_view bytes;
  std::string_view content_type;
  std::string etag;
};

const std::unordered_map<std::string_view, served_file>& served_files() {
  static const auto files = [] {
    std::unordered_map<std::string_view, served_file> by_path;
    for (const auto& f : ui::embedded_files) by_path.emplace(f.path, served_file{f.bytes, content_type_of(f.path), etag_of(f.bytes)});
    return by_path;
  }();
  return files;
}

response file_response(const request& req, const served_file& file) {
  // no-cache: kept, but revalidated each time (a 304 when unchanged), so an upgraded node's page
  // never mixes with an old script.
  std::vector<std::pair<std::string, std::string>> headers{{"ETag", file.etag},
                                                           {"Cache-Control", "no-cache"},
                                                           {"X-Content-Type-Options", "nosniff"},
                                                           {"Content-Security-Policy", content_security_policy}};
  if (req.header("If-None-Match") == file.etag) return response{304, std::string(file.content_type), std::move(headers), {}};
  return response{200, std::string(file.content_type), std::move(headers), std::string(file.bytes)};
}

std::optional<response> serve_file(const request& req) {
  const auto& s = req.segments;
  if (s.empty() || s[0] != "ui") return std::nullopt;
  if (req.method != "GET") return std::nullopt;
  // /ui and /ui/ are the page; its views are addressed after '#', which never reaches the server.
  const std::string_view path = s.size() == 1 || (s.size() == 2 && s[1].empty()) ? "index.html"
                                : s.size() == 2                                  ? std::string_view(s[1])
                                                                                 : std::string_view();
  const auto& files = served_files();
  const auto found = files.find(path);
  if (found == files.end()) throw http_error(404, "NotFound", "no file " + req.path + " in the web view");
  return file_response(req, found->second);
}

}  // namespace

std::optional<response> route_ui(const request& req, client& hub) {
  if (req.method == "GET" && req.segments.size() == 2 && req.segments[0] == "api" &&
      req.segments[1] == "instance-counts")
    return instance_counts_response(req, hub);
  return serve_file(req);
}

}  // namespace perdure
