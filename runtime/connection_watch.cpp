#include "connection_watch.hpp"

#include <caf/all.hpp>

#include <map>
#include <mutex>
#include <optional>
#include <utility>

namespace perdure::detail {
namespace {

void answer_with_loss(const caf::strong_actor_ptr& caller, caf::message_id response, const caf::error& reason) {
  caller->get()->enqueue(caf::make_mailbox_element(nullptr, response, {}, node_lost(reason)), nullptr);
}

}  // namespace

caf::error node_lost(const caf::error& reason) {
  return caf::make_error(caf::sec::request_receiver_down,
                         "lost the connection to the node, or it stopped: " + caf::to_string(reason));
}

struct connection_watch::calls {
  std::mutex mutex;
  std::optional<caf::error> lost;  // why the node is gone, once it is
  uint64_t next_id = 0;
  std::map<uint64_t, std::pair<caf::strong_actor_ptr, caf::message_id>> waiting;

  void lose(caf::error reason) {
    std::lock_guard lock(mutex);
    lost = std::move(reason);
    for (const auto& [id, call] : waiting) answer_with_loss(call.first, call.second, *lost);
  }
};

connection_watch::registration::~registration() {
  std::lock_guard lock(calls_->mutex);
  calls_->waiting.erase(id_);
}

connection_watch::connection_watch(caf::actor_system& system, const caf::actor& node)
    : calls_(std::make_shared<calls>()) {
  // The node handle is a spawn argument rather than a capture: CAF 0.17 applies a function actor's
  // arguments through a tuple it leaves null when there are none (UBSan: a reference to null).
  watcher_ = system.spawn(
      [](caf::event_based_actor* self, const caf::actor& watched, std::shared_ptr<calls> waiting) -> caf::behavior {
        self->monitor(watched);
        self->set_down_handler([self, waiting](caf::down_msg& down) {
          waiting->lose(std::move(down.reason));
          self->quit();
        });
        return {[](caf::ok_atom) {}};  // waits for the down message only
      },
      node, calls_);
}

connection_watch::~connection_watch() { caf::anon_send_exit(watcher_, caf::exit_reason::user_shutdown); }

connection_watch::registration connection_watch::watch(caf::scoped_actor& caller, caf::message_id response) {
  auto pointer = caf::actor_cast<caf::strong_actor_ptr>(caller.ptr());
  std::lock_guard lock(calls_->mutex);
  if (calls_->lost) answer_with_loss(pointer, response, *calls_->lost);
  const uint64_t id = calls_->next_id++;
  calls_->waiting.emplace(id, std::make_pair(std::move(pointer), response));
  return registration{calls_, id};
}

}  // namespace perdure::detail
