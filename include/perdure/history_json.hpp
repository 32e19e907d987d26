// The history export: one execution's history as a JSON document that gives back exactly the
// events it was written from (docs/http-api.md, "History export"). `perdure history ID --export
// FILE` and GET /api/instances/{id}/history?format=export write it; users' tests read it and
// replay it against their current code:
//
//   const perdure::history old = perdure::read_history_file("tests/histories/order-42.json");
//   CHECK_FALSE(perdure::check_replay(old, my_registry));
#pragma once

#include <perdure/errors.hpp>
#include <perdure/history.hpp>

#include <filesystem>
#include <string>
#include <string_view>

namespace perdure {

/// The export document of one instance's history (format "perdure-history", formatVersion 1).
std::string write_history_json(std::string_view instance_id, const history& events);

/// The events of an export document. Throws invalid_argument_error naming what is wrong (not JSON,
/// another format or version, an event of an unknown kind, a missing or mistyped field, and which
/// event) when the text is not such a document.
history read_history_json(std::string_view text);

/// read_history_json of a file's contents; also throws invalid_argument_error when it cannot be read.
history read_history_file(const std::filesystem::path& file);

}  // namespace perdure
