// Perdure's one generator of random ids (instance ids a client does not choose, execution ids).
#pragma once

#include <string>

namespace perdure::detail {

/// 32 lowercase hex digits from a per-thread generator seeded by std::random_device.
std::string random_id();

}  // namespace perdure::detail
