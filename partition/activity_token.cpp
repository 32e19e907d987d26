#include "activity_token.hpp"

#include <page_token.hpp>

#include <perdure/errors.hpp>

#include <cstdint>

namespace perdure::partition {

namespace {

void put_u32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

void put_text(std::string& out, std::string_view text) {
  put_u32(out, static_cast<uint32_t>(text.size()));
  out.append(text);
}

[[noreturn]] void malformed(std::string_view why) {
  throw invalid_argument_error("malformed activity task token (" + std::string(why) +
                               "); pass the token activity_context::complete_asynchronously() gave as is");
}

// Reads the fields in the order put_* wrote them; every read checks what is left.
class token_reader {
 public:
  explicit token_reader(std::string_view bytes) : bytes_(bytes) {}
  uint32_t u32() {
    if (bytes_.size() < 4) malformed("cut short");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = v << 8 | static_cast<unsigned char>(bytes_[static_cast<size_t>(i)]);
    bytes_.remove_prefix(4);
    return v;
  }
  std::string text() {
    const uint32_t size = u32();
    if (bytes_.size() < size) malformed("cut short");
    std::string out{bytes_.substr(0, size)};
    bytes_.remove_prefix(size);
    return out;
  }
  bool done() const { return bytes_.empty(); }

 private:
  std::string_view bytes_;
};

}  // namespace

std::string activity_task_token(const storage::activity_task& task) {
  std::string fields;
  put_text(fields, task.instance_id);
  put_text(fields, task.execution_id);
  put_u32(fields, static_cast<uint32_t>(task.task_id));
  return storage::encode_page_token(storage::page_token_kind::activity_task, fields);
}

attempt_ref attempt_of_task_token(std::string_view token) {
  std::string fields;
  try {
    fields = storage::decode_page_token(storage::page_token_kind::activity_task, token);
  } catch (const storage::store_error& e) {
    throw invalid_argument_error(e.what());
  }
  token_reader read{fields};
  attempt_ref attempt;
  attempt.instance_id = read.text();
  attempt.execution_id = read.text();
  attempt.task_id = static_cast<int32_t>(read.u32());
  if (!read.done()) malformed("trailing bytes");
  if (attempt.instance_id.empty() || attempt.execution_id.empty() || attempt.task_id < 0) malformed("no attempt");
  return attempt;
}

message activity_completion(std::string_view token, std::string result_json, time_point now) {
  auto attempt = attempt_of_task_token(token);
  return message{std::move(attempt.instance_id), std::move(attempt.execution_id),
                 history_event{now, events::task_completed{attempt.task_id, std::move(result_json)}}};
}

message activity_failure(std::string_view token, failure_details failure, time_point now) {
  auto attempt = attempt_of_task_token(token);
  return message{std::move(attempt.instance_id), std::move(attempt.execution_id),
                 history_event{now, events::task_failed{attempt.task_id, std::move(failure)}}};
}

}  // namespace perdure::partition
