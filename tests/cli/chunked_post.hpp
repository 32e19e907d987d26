// A POST whose body goes out with chunked transfer encoding (no Content-Length), for tests of
// limits that must hold while a body is read.
#pragma once

#include <httplib.h>

#include <string>

namespace perdure::cli_test {

/// Sends `total` bytes of `fill` (rounded up to whole 1 MiB chunks) to `path`.
inline httplib::Result post_chunked(httplib::Client& http, const std::string& path, size_t total, char fill) {
  const std::string chunk(1 << 20, fill);
  size_t sent = 0;
  return http.Post(
      path.c_str(),
      [&](size_t, httplib::DataSink& sink) {
        if (sent >= total) {
          sink.done();
          return true;
        }
        sent += chunk.size();
        return sink.write(chunk.data(), chunk.size());
      },
      "application/json");
}

}  // namespace perdure::cli_test
