#include "click_stream.hpp"

#include <nats/nats.h>

#include <memory>
#include <stdexcept>

namespace enrichment {
namespace {

[[noreturn]] void fail(const std::string& what, natsStatus status, jsErrCode code = jsErrCode{}) {
  std::string text = what + ": " + natsStatus_GetText(status);
  if (code != 0) text += " (JetStream error " + std::to_string(code) + ")";
  throw std::runtime_error(text);
}

template <class T, void (*Destroy)(T*)>
struct destroyer {
  void operator()(T* p) const { Destroy(p); }
};
using connection_ptr = std::unique_ptr<natsConnection, destroyer<natsConnection, natsConnection_Destroy>>;
using context_ptr = std::unique_ptr<jsCtx, destroyer<jsCtx, jsCtx_Destroy>>;
using message_ptr = std::unique_ptr<natsMsg, destroyer<natsMsg, natsMsg_Destroy>>;

// Same settings as a queue trigger creates the stream with, so whichever comes first makes it.
void add_stream_if_missing(jsCtx* js, const std::string& subject) {
  jsStreamInfo* info = nullptr;
  jsErrCode code{};
  if (js_GetStreamInfo(&info, js, click_stream, nullptr, &code) == NATS_OK) {
    jsStreamInfo_Destroy(info);
    return;
  }
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  config.Name = click_stream;
  const char* subjects[] = {subject.c_str()};
  config.Subjects = subjects;
  config.SubjectsLen = 1;
  config.Storage = js_FileStorage;
  const natsStatus s = js_AddStream(&info, js, &config, nullptr, &code);
  if (s == NATS_OK) {
    jsStreamInfo_Destroy(info);
    return;
  }
  if (code != JSStreamNameExistErr) fail(std::string("cannot create the stream ") + click_stream, s, code);
}

}  // namespace

void publish_clicks(const std::string& nats_url, const std::string& subject, const std::vector<click>& clicks) {
  natsConnection* raw_connection = nullptr;
  if (const natsStatus s = natsConnection_ConnectTo(&raw_connection, nats_url.c_str()); s != NATS_OK)
    fail("cannot connect to " + nats_url, s);
  connection_ptr connection(raw_connection);
  jsCtx* raw_js = nullptr;
  if (const natsStatus s = natsConnection_JetStream(&raw_js, connection.get(), nullptr); s != NATS_OK)
    fail("cannot use JetStream on " + nats_url, s);
  context_ptr js(raw_js);
  add_stream_if_missing(js.get(), subject);
  for (const auto& c : clicks) {
    const std::string data = nlohmann::json(c).dump();
    natsMsg* raw_message = nullptr;
    if (const natsStatus s = natsMsg_Create(&raw_message, subject.c_str(), nullptr, data.data(),
                                            static_cast<int>(data.size()));
        s != NATS_OK)
      fail("cannot make a message", s);
    message_ptr message(raw_message);
    natsMsgHeader_Set(message.get(), "Nats-Msg-Id", c.event_id.c_str());
    jsPubAck* ack = nullptr;
    jsErrCode code{};
    const natsStatus s = js_PublishMsg(&ack, js.get(), message.get(), nullptr, &code);
    if (ack) jsPubAck_Destroy(ack);
    if (s != NATS_OK) fail("cannot publish click " + c.event_id + " on " + subject, s, code);
  }
}

perdure::queue_trigger_options click_trigger(const std::string& subject) {
  perdure::queue_trigger_options trigger;
  trigger.subject = subject;
  trigger.orchestration = "EnrichClick";
  trigger.stream = click_stream;
  trigger.durable = "enrichment";
  return trigger;
}

}  // namespace enrichment
