// The click stream on NATS JetStream: what a website's producer would do (publish each click with
// its event id as the message id), and the queue trigger that turns each message into an
// EnrichClick instance whose id is that event id.
#pragma once

#include "clicks.hpp"

#include <perdure/queue_trigger.hpp>

#include <string>
#include <vector>

namespace enrichment {

inline constexpr const char* click_stream = "CLICKS";

/// Publishes every click on `subject` to the servers at `nats_url` ("nats://host:port,..."), each
/// acknowledged by JetStream, creating the stream CLICKS for the subject if it is missing. The
/// message id header (Nats-Msg-Id) is the event id: JetStream drops a re-published duplicate within
/// its window, and the trigger makes the event id the instance id in any case. Throws
/// std::runtime_error with the server's answer.
void publish_clicks(const std::string& nats_url, const std::string& subject, const std::vector<click>& clicks);

/// The trigger that starts EnrichClick for each click on `subject`.
perdure::queue_trigger_options click_trigger(const std::string& subject);

}  // namespace enrichment
