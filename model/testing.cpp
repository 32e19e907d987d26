#include <perdure/testing.hpp>

#include <perdure/executor.hpp>
#include <perdure/failure.hpp>

#include <queue>
#include <unordered_map>

namespace perdure {

namespace {

struct live_instance {
  test_instance info;
  std::unique_ptr<orchestration_executor> executor;
  std::vector<history_event> inbox;
  std::optional<parent_instance> parent;
  std::string execution_id;
  int executions = 0;
};

struct timed_message {
  time_point at;
  uint64_t seq;
  std::string instance_id;
  history_event event;
  bool operator>(const timed_message& o) const { return at != o.at ? at > o.at : seq > o.seq; }
};

}  // namespace

struct orchestration_tester::impl {
  time_point start = time_point(std::chrono::seconds(1704067200));
  size_t max_episodes = 100'000;
  std::vector<timed_message> scheduled;  // from schedule(), before run()

  time_point now{};
  uint64_t seq = 0;
  std::vector<std::unique_ptr<live_instance>> instances;  // in creation order
  std::unordered_map<std::string, live_instance*> by_id;
  std::priority_queue<timed_message, std::vector<timed_message>, std::greater<>> timers;
  std::vector<message> sent_elsewhere;

  live_instance& create(const registry& functions, std::string name, std::string instance_id,
                        std::string input, std::optional<parent_instance> parent) {
    auto l = std::make_unique<live_instance>();
    l->info.instance_id = instance_id;
    l->info.name = name;
    l->info.status = runtime_status::running;
    l->parent = std::move(parent);
    live_instance& ref = *l;
    by_id[instance_id] = l.get();
    instances.push_back(std::move(l));
    begin_execution(functions, ref, std::move(input));
    return ref;
  }

  void begin_execution(const registry& functions, live_instance& l, std::string input) {
    l.execution_id = l.info.instance_id + "#" + std::to_string(++l.executions);
    l.executor = std::make_unique<orchestration_executor>(functions, l.info.name, l.info.instance_id);
    l.inbox.insert(l.inbox.begin(),
                   history_event{now, events::execution_started{l.info.name, l.info.instance_id,
                                                                l.execution_id, std::move(input),
                                                                l.parent}});
  }

  void to_parent(const live_instance& child, event_payload result) {
    if (!child.parent) return;
    auto it = by_id.find(child.parent->instance_id);
    if (it != by_id.end()) it->second->inbox.push_back(history_event{now, std::move(result)});
  }

  void run_episode(const registry& functions, const registry& stubs, live_instance& l) {
    std::vector<history_event> batch;
    batch.reserve(l.inbox.size() + 1);
    batch.push_back(history_event{now, events::episode_started{}});
    for (auto& e : l.inbox) batch.push_back(std::move(e));
    l.inbox.clear();
    episode_result r;
    try {
      r = l.executor->execute(batch);
    } catch (const nondeterminism_error& e) {
      l.info.failure = failure_details{"perdure::nondeterminism_error", e.what(), {}, true};
      return;
    }
    if (r.custom_status) l.info.custom_status = *r.custom_status;
    for (const auto& e : r.appended) {
      l.info.events.push_back(e);
      react(functions, stubs, l, e, r);
    }
  }

  void react(const registry& functions, const registry& stubs, live_instance& l,
             const history_event& e, episode_result& r) {
    const event_payload& p = e.payload;
    if (auto* s = std::get_if<events::task_scheduled>(&p)) {
      activity_context ctx(l.info.instance_id, s->task_id, s->name);
      const registry& from = stubs.has_activity(s->name) ? stubs : functions;
      try {
        l.inbox.push_back(history_event{
            now, events::task_completed{s->task_id, from.invoke_activity(s->name, ctx, s->input)}});
      } catch (...) {
        l.inbox.push_back(history_event{
            now, events::task_failed{s->task_id, to_failure_details(std::current_exception())}});
      }
    } else if (auto* t = std::get_if<events::timer_created>(&p)) {
      timers.push(timed_message{t->fire_at, seq++, l.info.instance_id,
                                history_event{t->fire_at, events::timer_fired{t->timer_id, t->fire_at}}});
    } else if (auto* c = std::get_if<events::sub_orchestration_created>(&p)) {
      auto it = by_id.find(c->instance_id);
      if (it != by_id.end() && !is_terminal(it->second->info.status)) {
        l.inbox.push_back(history_event{
            now, events::sub_orchestration_failed{
                     c->task_id, failure_details{"perdure::instance_already_exists",
                                                 "instance '" + c->instance_id + "' is running",
                                                 {}, true}}});
        return;
      }
      if (it != by_id.end()) by_id.erase(it);
      parent_instance parent{l.info.name, l.info.instance_id, l.execution_id, c->task_id};
      create(functions, c->name, c->instance_id, c->input, parent);
    } else if (auto* s = std::get_if<events::event_sent>(&p)) {
      history_event raised{now, events::event_raised{s->name, s->input}};
      auto it = by_id.find(s->instance_id);
      if (it != by_id.end())
        it->second->inbox.push_back(std::move(raised));
      else
        sent_elsewhere.push_back(message{s->instance_id, {}, std::move(raised)});
    } else if (auto* done = std::get_if<events::execution_completed>(&p)) {
      l.info.status = runtime_status::completed;
      l.info.output = done->output;
      to_parent(l, events::sub_orchestration_completed{l.parent ? l.parent->task_id : -1, done->output});
    } else if (auto* failed = std::get_if<events::execution_failed>(&p)) {
      l.info.status = runtime_status::failed;
      l.info.failure = failed->failure;
      to_parent(l, events::sub_orchestration_failed{l.parent ? l.parent->task_id : -1, failed->failure});
    } else if (auto* term = std::get_if<events::execution_terminated>(&p)) {
      l.info.status = runtime_status::terminated;
      to_parent(l, events::sub_orchestration_failed{
                       l.parent ? l.parent->task_id : -1,
                       failure_details{"Terminated", term->reason, {}, true}});
    } else if (std::holds_alternative<events::execution_suspended>(p)) {
      l.info.status = runtime_status::suspended;
    } else if (std::holds_alternative<events::execution_resumed>(p)) {
      l.info.status = runtime_status::running;
    } else if (auto* next = std::get_if<events::continued_as_new>(&p)) {
      l.info.earlier.push_back(std::move(l.info.events));
      l.info.events.clear();
      l.info.status = runtime_status::running;
      for (auto& carried : r.carryover_events) l.inbox.push_back(std::move(carried));
      r.carryover_events.clear();
      begin_execution(functions, l, next->input);
    }
  }
};

orchestration_tester::orchestration_tester(const registry& functions)
    : functions_(functions), impl_(std::make_unique<impl>()) {}

orchestration_tester::~orchestration_tester() = default;

orchestration_tester& orchestration_tester::start_at(time_point start) {
  impl_->start = start;
  return *this;
}

orchestration_tester& orchestration_tester::max_episodes(size_t episodes) {
  impl_->max_episodes = episodes;
  return *this;
}

orchestration_tester& orchestration_tester::schedule(std::chrono::nanoseconds after,
                                                     event_payload event, std::string instance_id) {
  impl_->scheduled.push_back(timed_message{time_point(after), impl_->seq++, std::move(instance_id),
                                           history_event{{}, std::move(event)}});
  return *this;
}

const test_instance& orchestration_tester::run_raw(std::string name, std::string input_json,
                                                   std::string instance_id) {
  impl& s = *impl_;
  s.instances.clear();
  s.by_id.clear();
  s.timers = {};
  s.sent_elsewhere.clear();
  s.now = s.start;
  live_instance& root = s.create(functions_, std::move(name), instance_id, std::move(input_json), {});
  for (const auto& m : s.scheduled) {
    timed_message t = m;
    t.at = s.start + t.at.time_since_epoch();
    t.event.timestamp = t.at;
    if (t.instance_id.empty()) t.instance_id = instance_id;
    if (t.at == s.start && t.instance_id == instance_id)
      root.inbox.push_back(std::move(t.event));
    else
      s.timers.push(std::move(t));
  }
  for (size_t episodes = 0; episodes < s.max_episodes;) {
    live_instance* next = nullptr;
    for (auto& l : s.instances)
      if (!l->inbox.empty()) {
        next = l.get();
        break;
      }
    if (next != nullptr) {
      s.run_episode(functions_, stubs_, *next);
      ++episodes;
      continue;
    }
    if (s.timers.empty()) break;
    timed_message t = s.timers.top();
    s.timers.pop();
    if (t.at > s.now) s.now = t.at;
    auto it = s.by_id.find(t.instance_id);
    if (it != s.by_id.end()) it->second->inbox.push_back(std::move(t.event));
  }
  return root.info;
}

const test_instance* orchestration_tester::instance(std::string_view instance_id) const {
  auto it = impl_->by_id.find(std::string(instance_id));
  return it == impl_->by_id.end() ? nullptr : &it->second->info;
}

const std::vector<message>& orchestration_tester::sent_elsewhere() const noexcept {
  return impl_->sent_elsewhere;
}

time_point orchestration_tester::now() const noexcept { return impl_->now; }

}  // namespace perdure
