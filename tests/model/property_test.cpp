// Property: random orchestrations driven episode by episode in one cached executor give the same
// episodes as executors rebuilt by full replay of the history so far, every time.
//
// The orchestration is a small interpreter over a program generated from its input's seed:
// activities (some guarded by try/catch), timers, events with and without timeouts, when_all,
// when_any against a timer, sub-orchestrations, sent events, custom status, retries, uuids and
// continue_as_new. The driver answers actions at random: in random order and episodes, with
// failures, duplicates, unknown ids, stray events, suspend/resume and the odd terminate.
// PERDURE_PROPERTY_CASES sets the number of cases (default 2000).
#include "harness.hpp"

#include <perdure/orchestration_context.hpp>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <random>

using namespace perdure;
using namespace perdure::test;
using json = nlohmann::json;

namespace {

task<json> interpreter(orchestration_context& ctx, json input) {
  const uint64_t seed = input.at("seed").get<uint64_t>();
  const int gen = input.at("gen").get<int>();
  std::mt19937_64 rng(seed * 1000003 + static_cast<uint64_t>(gen));
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  auto secs = [&](int n) { return std::chrono::seconds(1 + pick(n)); };
  json out = json::array();
  const int ops = 1 + pick(8);
  for (int i = 0; i < ops; ++i) {
    const bool guarded = pick(3) != 0;
    try {
      switch (pick(11)) {
        case 0:
          out.push_back(co_await ctx.call_activity<int>("A" + std::to_string(pick(3)), i));
          break;
        case 1:
          co_await ctx.create_timer(secs(100));
          out.push_back("t");
          break;
        case 2:
          out.push_back(co_await ctx.wait_for_event<int>("e" + std::to_string(pick(3))));
          break;
        case 3:
          out.push_back(co_await ctx.wait_for_event<int>("e" + std::to_string(pick(3)), secs(200)));
          break;
        case 4: {
          std::vector<task<int>> fan;
          for (int k = 0, n = 1 + pick(5); k < n; ++k) fan.push_back(ctx.call_activity<int>("F", k));
          int total = 0;
          for (int v : co_await when_all(std::move(fan))) total += v;
          out.push_back(total);
          break;
        }
        case 5: {
          auto work = ctx.call_activity<int>("W", i);
          auto timer = ctx.create_timer(secs(60));
          if (co_await when_any(work, timer) == 0)
            out.push_back(co_await work);
          else
            out.push_back("timeout");
          break;
        }
        case 6:
          out.push_back(co_await ctx.call_sub_orchestration<int>("Child", i));
          break;
        case 7:
          ctx.send_event("peer", "note", i);
          ctx.set_custom_status(i);
          break;
        case 8: {
          retry_policy policy;
          policy.max_attempts = 1 + pick(3);
          policy.first_interval = secs(20);
          out.push_back(co_await ctx.call_activity<int>("R", i, policy));
          break;
        }
        case 9:
          out.push_back(ctx.new_uuid());
          break;
        case 10: {
          auto [a, b] = co_await when_all(ctx.call_activity<int>("P", i), ctx.create_timer(secs(30)));
          (void)b;
          out.push_back(a);
          break;
        }
      }
    } catch (const perdure::task_failed& e) {
      if (!guarded) throw;
      out.push_back("F:" + e.failure().message);
    } catch (const timeout_error&) {
      out.push_back("T");
    }
  }
  if (gen < 2 && pick(3) == 0) ctx.continue_as_new(json{{"seed", seed}, {"gen", gen + 1}}, pick(2) == 0);
  co_return out;
}

struct outstanding {
  enum class kind { activity, timer, sub } what;
  int32_t id;
  time_point fire_at;
};

class driver {
 public:
  driver(const registry& functions, uint64_t seed) : functions_(functions), rng_(seed), seed_(seed) {}

  void run() {
    int t = 0;
    std::vector<history_event> first{started("Interp", json{{"seed", seed_}, {"gen", 0}}.dump())};
    executor_ = std::make_unique<orchestration_executor>(functions_, "Interp", 0, "i1");
    for (int episode = 0; episode < 300; ++episode) {
      t += pick(40);
      std::vector<history_event> batch;
      batch.push_back(ev(events::episode_started{}, at(t)));
      for (auto& e : first) batch.push_back(std::move(e));
      size_t fixed = batch.size();
      first.clear();
      add_deliveries(batch, t);
      std::shuffle(batch.begin() + static_cast<std::ptrdiff_t>(fixed), batch.end(), rng_);
      if (!step(batch)) return;
      if (executor_->is_complete()) {
        const auto& end = history_.back().payload;
        auto* next = std::get_if<events::continued_as_new>(&end);
        if (next == nullptr) return;
        std::string input = next->input;
        executor_ = std::make_unique<orchestration_executor>(functions_, "Interp", 0, "i1");
        history_.clear();
        pending_.clear();
        delivered_.clear();
        first.push_back(started("Interp", input));
        for (auto& c : carryover_) first.push_back(std::move(c));
        carryover_.clear();
        ++executions_;
      }
    }
  }

  int executions() const { return executions_; }
  size_t events() const { return events_; }
  const char* end() const { return end_; }

 private:
  int pick(int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); }

  void add_deliveries(std::vector<history_event>& batch, int t) {
    for (auto it = pending_.begin(); it != pending_.end();) {
      bool due = it->what != outstanding::kind::timer || it->fire_at <= at(t);
      if (!due || pick(3) == 0) {
        ++it;
        continue;
      }
      bool fail = pick(5) == 0;
      history_event e;
      switch (it->what) {
        case outstanding::kind::activity:
          e = fail ? failed(it->id, "boom", "activity " + std::to_string(it->id))
                   : completed(it->id, std::to_string(it->id * 3));
          break;
        case outstanding::kind::timer: e = fired(it->id, it->fire_at); break;
        case outstanding::kind::sub:
          e = fail ? ev(events::sub_orchestration_failed{it->id, failure_details{"x", "child", {}, false}})
                   : ev(events::sub_orchestration_completed{it->id, std::to_string(it->id * 5)});
          break;
      }
      delivered_.push_back(e);
      batch.push_back(std::move(e));
      it = pending_.erase(it);
    }
    if (pick(3) == 0) batch.push_back(raised("e" + std::to_string(pick(3)), std::to_string(pick(100))));
    if (pick(10) == 0 && !delivered_.empty()) batch.push_back(delivered_[rng_() % delivered_.size()]);
    if (pick(20) == 0) batch.push_back(completed(1000 + pick(5), "1"));
    if (pick(25) == 0) batch.push_back(ev(events::execution_suspended{}));
    if (pick(6) == 0) batch.push_back(ev(events::execution_resumed{}));
    if (pick(400) == 0) batch.push_back(ev(events::execution_terminated{"random"}));
  }

  bool step(const std::vector<history_event>& batch) {
    episode_result cached = executor_->execute(batch);
    orchestration_executor fresh(functions_, "Interp", 0, "i1");
    episode_result replayed = fresh.replay(history_);
    CHECK(replayed.appended.empty());
    episode_result rebuilt = fresh.execute(batch);
    bool same = cached.appended == rebuilt.appended && cached.ignored == rebuilt.ignored &&
                cached.carryover_events == rebuilt.carryover_events &&
                cached.custom_status == rebuilt.custom_status &&
                executor_->is_complete() == fresh.is_complete() &&
                executor_->is_suspended() == fresh.is_suspended();
    CHECK_MESSAGE(same, "seed " << seed_ << ", episode of " << batch.size() << " events");
    if (!same) return false;
    events_ += cached.appended.size();
    for (const auto& e : cached.appended) {
      if (executor_->is_complete()) end_ = event_kind_name(e.payload);
      history_.push_back(e);
      if (auto* s = std::get_if<events::task_scheduled>(&e.payload))
        pending_.push_back({outstanding::kind::activity, s->task_id, {}});
      else if (auto* tc = std::get_if<events::timer_created>(&e.payload))
        pending_.push_back({outstanding::kind::timer, tc->timer_id, tc->fire_at});
      else if (auto* sc = std::get_if<events::sub_orchestration_created>(&e.payload))
        pending_.push_back({outstanding::kind::sub, sc->task_id, {}});
    }
    carryover_ = std::move(cached.carryover_events);
    if (executor_->is_complete()) {
      orchestration_executor whole(functions_, "Interp", 0, "i1");
      CHECK(whole.replay(history_).appended.empty());
      CHECK(whole.is_complete());
    }
    return true;
  }

  const registry& functions_;
  std::mt19937_64 rng_;
  uint64_t seed_;
  std::unique_ptr<orchestration_executor> executor_;
  history history_;
  std::vector<outstanding> pending_;
  std::vector<history_event> delivered_;
  std::vector<history_event> carryover_;
  int executions_ = 1;
  size_t events_ = 0;
  const char* end_ = "Running";
};

}  // namespace

TEST_CASE("cached episodes and full replays produce identical histories") {
  registry functions;
  functions.add_orchestration("Interp", interpreter);
  int cases = 2000;
  if (const char* env = std::getenv("PERDURE_PROPERTY_CASES")) cases = std::atoi(env);
  int continued = 0;
  size_t events = 0;
  std::map<std::string, int> ends;
  for (int c = 0; c < cases; ++c) {
    driver d(functions, static_cast<uint64_t>(c) * 7919 + 1);
    d.run();
    continued += d.executions() > 1 ? 1 : 0;
    events += d.events();
    ++ends[d.end()];
  }
  std::string summary;
  for (const auto& [end, n] : ends) summary += " " + end + "=" + std::to_string(n);
  MESSAGE(cases << " cases, " << events << " events appended, " << continued
                << " continued as new; final states:" << summary);
  CHECK(continued > 0);
}
