// Where a node's finished spans go (the OTLP exporter, runtime/otlp_exporter.hpp). Partition actors
// and activity workers call it; it never blocks (a full exporter drops and counts). Empty: the node
// exports no spans.
#pragma once

#include <perdure/detail/span_record.hpp>

#include <functional>

namespace perdure::actors {

using span_sink = std::function<void(detail::span_records)>;

}  // namespace perdure::actors
