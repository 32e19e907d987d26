// What a client is told when serving its call failed: the one mapping from the store's errors to
// the client's, and from an error code back to the exception class that stands for it. The local
// client, the node actor (and through it the cluster client) and the HTTP API all go through here,
// so a failure reads the same whichever way the call came in.
#pragma once

#include <perdure/errors.hpp>
#include <perdure/storage/store.hpp>

#include <string>
#include <system_error>

namespace perdure::actors {

/// The one mapping from a store failure to the kind of failure a client sees. The store's own
/// argument checks (an invalid id or query, a payload over the limit, an instance that is not
/// finished, a hub whose shape differs from the flags) are the caller's bad argument; a missing
/// instance is instance_not_found; a partition log that cannot be reached or was fenced is
/// unavailable (a retry may succeed); an I/O error or a corrupt record is storage_failure.
errc client_errc_of(storage::errc code) noexcept;

/// The client's kind of failure for any perdure::error's code: a perdure::errc as it is, a
/// storage::errc through the mapping above, anything else errc::failed.
errc client_errc_of(const std::error_code& code) noexcept;

/// Throws the exception class that stands for `code`, with `message`; instance_not_found and
/// instance_already_exists name `instance_id` instead.
[[noreturn]] void throw_error(errc code, const std::string& message, const std::string& instance_id);

/// Runs `read`, a store read serving a client, and turns a store failure into the exception the
/// client gets for it.
template <class Read>
auto client_read(const std::string& instance_id, Read&& read) -> decltype(read()) {
  try {
    return read();
  } catch (const storage::store_error& e) {
    throw_error(client_errc_of(e.code()), e.what(), instance_id);
  }
}

}  // namespace perdure::actors
