#include "otlp_exporter.hpp"

#include "otlp_json.hpp"

#include <perdure/errors.hpp>

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <utility>

namespace perdure {

otlp_exporter::otlp_exporter(otlp_exporter_options options, actors::node_metrics& metrics)
    : options_(std::move(options)), metrics_(metrics) {
  const std::string_view endpoint = options_.endpoint;
  const bool tls = endpoint.starts_with("https://");
  if (!tls && !endpoint.starts_with("http://"))
    throw invalid_argument_error("--otlp-endpoint '" + options_.endpoint +
                                 "' is not an http:// or https:// URL (OTLP over HTTP, e.g. http://127.0.0.1:4318)");
  if (!options_.ca_file.empty()) {
    if (!tls) throw invalid_argument_error("--otlp-ca-file is for an https:// --otlp-endpoint only");
    if (!std::ifstream{options_.ca_file})
      throw invalid_argument_error("--otlp-ca-file '" + options_.ca_file + "' cannot be read");
  }
  const std::string_view scheme = tls ? "https://" : "http://";
  auto rest = endpoint.substr(scheme.size());
  const auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  path_ = slash == std::string_view::npos ? std::string{} : std::string{rest.substr(slash)};
  while (!path_.empty() && path_.back() == '/') path_.pop_back();
  path_ += "/v1/traces";
  const auto colon = authority.rfind(':');
  int port = tls ? 443 : 80;
  if (colon != std::string_view::npos) {
    try {
      size_t used = 0;
      const std::string digits{authority.substr(colon + 1)};
      port = std::stoi(digits, &used);
      if (used != digits.size() || port < 1 || port > 65535) throw std::out_of_range("port");
    } catch (const std::exception&) {
      throw invalid_argument_error("--otlp-endpoint '" + options_.endpoint + "' has no valid port");
    }
    authority = authority.substr(0, colon);
  }
  if (authority.empty()) throw invalid_argument_error("--otlp-endpoint '" + options_.endpoint + "' names no host");
  origin_ = std::string{scheme} + std::string{authority} + ":" + std::to_string(port);
  thread_ = std::thread([this] { run(); });
}

otlp_exporter::~otlp_exporter() {
  {
    std::lock_guard lock{mutex_};
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void otlp_exporter::submit(detail::span_records spans) {
  size_t dropped = 0;
  {
    std::lock_guard lock{mutex_};
    for (auto& span : spans) {
      if (queue_.size() >= options_.max_queued_spans) {
        ++dropped;
        continue;
      }
      queue_.push_back(std::move(span));
    }
  }
  if (dropped > 0) metrics_.spans_dropped.fetch_add(dropped, std::memory_order_relaxed);
  wake_.notify_one();
}

void otlp_exporter::run() {
  std::unique_lock lock{mutex_};
  while (true) {
    wake_.wait_for(lock, options_.flush_interval,
                   [this] { return stopping_ || queue_.size() >= options_.max_batch_spans; });
    if (queue_.empty()) {
      if (stopping_) return;
      continue;
    }
    detail::span_records batch;
    const size_t take = std::min(queue_.size(), options_.max_batch_spans);
    batch.reserve(take);
    for (size_t i = 0; i < take; ++i) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    const bool last = stopping_;
    lock.unlock();
    const bool sent = send(batch);
    (sent ? metrics_.spans_exported : metrics_.spans_dropped).fetch_add(batch.size(), std::memory_order_relaxed);
    if (sent && failing_) spdlog::info("OTLP collector {} accepts spans again", options_.endpoint);
    failing_ = !sent;
    lock.lock();
    if (last && !sent) {  // the collector is gone: do not hold the node's stop for the rest
      metrics_.spans_dropped.fetch_add(queue_.size(), std::memory_order_relaxed);
      queue_.clear();
    }
  }
}

bool otlp_exporter::send(const detail::span_records& batch) {
  httplib::Client collector{origin_};  // cpp-httplib's TLS client for https://, which checks the certificate
  if (!options_.ca_file.empty()) collector.set_ca_cert_path(options_.ca_file.c_str());
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(options_.timeout);
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(options_.timeout - seconds);
  collector.set_connection_timeout(static_cast<time_t>(seconds.count()), static_cast<time_t>(micros.count()));
  collector.set_read_timeout(static_cast<time_t>(seconds.count()), static_cast<time_t>(micros.count()));
  collector.set_write_timeout(static_cast<time_t>(seconds.count()), static_cast<time_t>(micros.count()));
  const auto body = otlp_trace_request(batch, options_.service_name, options_.node_id);
  const auto response = collector.Post(path_, body, "application/json");
  if (!response) {
    spdlog::log(failing_ ? spdlog::level::debug : spdlog::level::warn, "OTLP export to {} failed: {}; {} span(s) dropped (and later ones, until it answers)", options_.endpoint,
                  httplib::to_string(response.error()), batch.size());
    return false;
  }
  if (response->status / 100 != 2) {
    spdlog::log(failing_ ? spdlog::level::debug : spdlog::level::warn, "OTLP export to {} answered {}; {} span(s) dropped", options_.endpoint, response->status,
                  batch.size());
    return false;
  }
  return true;
}

}  // namespace perdure
