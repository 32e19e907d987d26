// Readable console output for the examples: an instance's status and its history, one event a line.
#pragma once

#include <perdure/client.hpp>
#include <perdure/history.hpp>
#include <perdure/instance.hpp>

#include <ostream>
#include <string>

namespace examples {

/// One history event: offset from `start`, kind, task id, name and payload (shortened).
std::string describe(const perdure::history_event& event, perdure::time_point start);

/// Status, custom status, output or failure, then the history.
void print_instance(std::ostream& out, perdure::client& client, const perdure::instance_record& record);

}  // namespace examples
