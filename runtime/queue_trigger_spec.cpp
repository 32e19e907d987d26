// The --trigger flag's "key=value,..." form.
#include <perdure/errors.hpp>
#include <perdure/queue_trigger.hpp>

#include <charconv>
#include <set>

namespace perdure {
namespace {

constexpr std::string_view form =
    "subject=SUBJECT,orchestration=NAME[,stream=S][,durable=D][,header=H][,event=E][,max-deliveries=N]"
    "[,ack-wait=SECONDS][,workers=N]";

[[noreturn]] void refuse(std::string_view spec, const std::string& why) {
  throw invalid_argument_error("--trigger '" + std::string{spec} + "': " + why + " (expected " + std::string{form} +
                               ")");
}

uint32_t positive_number(std::string_view spec, std::string_view key, std::string_view value, uint32_t most) {
  uint32_t n = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec != std::errc{} || end != value.data() + value.size() || n == 0 || n > most)
    refuse(spec, std::string{key} + " must be a whole number from 1 to " + std::to_string(most) + ", not '" +
                     std::string{value} + "'");
  return n;
}

}  // namespace

queue_trigger_options parse_queue_trigger(std::string_view spec) {
  queue_trigger_options options;
  std::set<std::string, std::less<>> seen;
  for (size_t start = 0; start <= spec.size();) {
    const auto end = std::min(spec.find(',', start), spec.size());
    const auto item = spec.substr(start, end - start);
    start = end + 1;
    if (item.empty()) refuse(spec, "an empty item");
    const auto eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0) refuse(spec, "'" + std::string{item} + "' is not key=value");
    const auto key = item.substr(0, eq);
    const auto value = item.substr(eq + 1);
    if (value.empty()) refuse(spec, std::string{key} + " has no value");
    if (!seen.emplace(key).second) refuse(spec, std::string{key} + " is given twice");
    if (key == "subject") options.subject = value;
    else if (key == "orchestration") options.orchestration = value;
    else if (key == "stream") options.stream = value;
    else if (key == "durable") options.durable = value;
    else if (key == "header") options.id_header = value;
    else if (key == "event") options.event = value;
    else if (key == "max-deliveries") options.max_deliveries = positive_number(spec, key, value, 1'000);
    else if (key == "ack-wait") options.ack_wait = std::chrono::seconds{positive_number(spec, key, value, 86'400)};
    else if (key == "workers") options.workers = positive_number(spec, key, value, 256);
    else refuse(spec, "unknown key '" + std::string{key} + "'");
  }
  if (options.subject.empty()) refuse(spec, "subject is missing");
  if (options.orchestration.empty()) refuse(spec, "orchestration is missing");
  return options;
}

}  // namespace perdure
