// How a test connects to the nats-servers it started: the jetstream_options of a nats_cluster.
#pragma once

#include "nats_cluster.hpp"

#include <jetstream.hpp>

namespace perdure::testing_support {

inline storage::jetstream_options options_for(const nats_cluster& servers) {
  storage::jetstream_options options;
  options.servers = servers.urls();
  return options;
}

}  // namespace perdure::testing_support
