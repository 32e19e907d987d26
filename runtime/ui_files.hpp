// The web view's static files (runtime/ui/), compiled into the node by cmake/embed_files.cmake so
// that a node serves its UI with nothing installed beside it and nothing fetched from elsewhere.
#pragma once

#include <span>
#include <string_view>

namespace perdure::ui {

struct embedded_file {
  std::string_view path;   // relative to runtime/ui/, e.g. "app.js"
  std::string_view bytes;  // the file's content as built
};

extern const std::span<const embedded_file> embedded_files;

}  // namespace perdure::ui
