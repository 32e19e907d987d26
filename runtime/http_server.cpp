#include "http_server.hpp"

#include <perdure/errors.hpp>

#include "http_tls.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <variant>

namespace perdure::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

// How long a refused request's connection keeps being read (and discarded) after the error was
// sent, so that a client still sending its body reads the answer instead of a connection reset.
constexpr std::chrono::seconds linger_time{5};

std::string_view view(beast::string_view s) { return {s.data(), s.size()}; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX decoding; a '%' not followed by two hex digits stays as it is.
std::string percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2])));
      i += 2;
    } else {
      out.push_back(plus_is_space && c == '+' ? ' ' : c);
    }
  }
  return out;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    const size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

// The request line and headers; the body is added once it is read.
request make_head(const bhttp::request_header<>& message) {
  request r;
  r.method = std::string(view(message.method_string()));
  const std::string_view target = view(message.target());
  const size_t query_at = target.find('?');
  r.path = std::string(target.substr(0, query_at));
  const std::string_view path = std::string_view(r.path).substr(r.path.starts_with('/') ? 1 : 0);
  if (!path.empty())
    for (auto segment : split(path, '/')) r.segments.push_back(percent_decode(segment, false));
  if (query_at != std::string_view::npos) {
    for (auto pair : split(target.substr(query_at + 1), '&')) {
      if (pair.empty()) continue;
      const size_t eq = pair.find('=');
      std::string name = percent_decode(pair.substr(0, eq), true);
      std::string value = eq == std::string_view::npos ? std::string{} : percent_decode(pair.substr(eq + 1), true);
      r.params.emplace(std::move(name), std::move(value));  // keeps the first of a repeated name
    }
  }
  for (const auto& field : message) r.headers.emplace_back(view(field.name_string()), view(field.value()));
  return r;
}

// Threads that run handlers, with a bounded queue: a full queue refuses rather than grows.
class worker_pool {
 public:
  void start(size_t threads, size_t queue_limit) {
    limit_ = queue_limit;
    for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
  }

  // False (and `task` untouched) when the queue is full or the pool stopped.
  bool try_post(std::function<void()>& task) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_ || queue_.size() >= limit_) return false;
      queue_.push_back(std::move(task));
    }
    ready_.notify_one();
    return true;
  }

  // Tasks under way finish; queued ones are dropped (their connections are closed by then).
  void stop() {
    std::deque<std::function<void()>> dropped;
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
      dropped.swap(queue_);
    }
    ready_.notify_all();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

 private:
  void work() {
    while (true) {
      std::function<void()> task;
      {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (stopping_) return;
        task = std::move(queue_.front());
        queue_.pop_front();
      }
      task();
    }
  }

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> queue_;
  size_t limit_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

class session;

}  // namespace

std::string request::param(std::string_view name) const {
  auto it = params.find(name);
  return it == params.end() ? std::string{} : it->second;
}

std::string request::header(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (beast::iequals(beast::string_view(n.data(), n.size()), beast::string_view(name.data(), name.size())))
      return v;
  return {};
}

// Whether the server still serves: an answer given later (from a callback on another thread) may
// reach the I/O thread and the workers only while they exist.
struct lifetime {
  std::mutex mutex;
  bool serving = false;
};

struct server::impl {
  server_options options;
  server::deferring_handler handle;
  server::cheap_test is_cheap;
  server::error_writer write_error;

  // Declared before the io_context: sessions its destructor releases still reach them.
  std::mutex sessions_mutex;
  std::unordered_map<session*, std::weak_ptr<session>> sessions;
  std::atomic<size_t> admitted{0};  // open connections within max_connections
  worker_pool workers;
  worker_pool cheap_workers;

  std::shared_ptr<lifetime> life = std::make_shared<lifetime>();
  net::io_context io{1};
  tcp::acceptor acceptor{io};
  net::steady_timer accept_retry{io};
  std::thread io_thread;

  std::unique_ptr<net::ssl::context> tls_context;  // null: plain HTTP

  impl(server_options o, server::deferring_handler h, server::cheap_test c, server::error_writer e)
      : options(std::move(o)), handle(std::move(h)), is_cheap(std::move(c)), write_error(std::move(e)) {
    if (options.tls) tls_context = make_server_tls_context(options.tls->certificate_chain, options.tls->private_key);
  }

  // The head gate's refusal, if any; a gate that throws refuses with 500 rather than let the
  // request through.
  std::optional<response> refusal_of(const request& head) noexcept {
    try {
      return options.refuse_head(head);
    } catch (const std::exception& e) {
      spdlog::error("management API: checking {} {} failed: {}", head.method, head.path, e.what());
    } catch (...) {
      spdlog::error("management API: checking {} {} failed with an unknown exception", head.method, head.path);
    }
    return internal_error();
  }

  // Runs the handler; one that throws anyway answers 500, never kills a worker.
  void run(const request& req, const responder& out) noexcept {
    try {
      return handle(req, out);
    } catch (const std::exception& e) {
      spdlog::error("management API: {} {} failed: {}", req.method, req.path, e.what());
    } catch (...) {
      spdlog::error("management API: {} {} failed with an unknown exception", req.method, req.path);
    }
    out.send(internal_error());
  }

  // What a later answer's `make` returns, or 500 if it throws.
  response make_safely(const std::function<response()>& make) noexcept {
    try {
      return make();
    } catch (const std::exception& e) {
      spdlog::error("management API: answering a waiting request failed: {}", e.what());
    } catch (...) {
      spdlog::error("management API: answering a waiting request failed with an unknown exception");
    }
    return internal_error();
  }

  response internal_error() noexcept {
    try {
      return write_error(500, "InternalError", "the request failed inside the node; see its log");
    } catch (...) {
      return response{500, "application/json", {}, R"({"error":"InternalError","message":"out of memory"})"};
    }
  }

  response busy() {
    response res = write_error(503, "Busy", "every worker of the management API is busy; retry later");
    res.headers.emplace_back("Retry-After", std::to_string(options.retry_after.count()));
    return res;
  }

  void accept();
  void admit(tcp::socket socket);
  void close_all();
};

// One request's answer, shared by the connection (which may close first) and whoever answers
// (which may be a callback on another thread, after the worker returned).
struct responder::state {
  state(server::impl& s, std::weak_ptr<session> c, bool keep)
      : owner(s), life(s.life), connection(std::move(c)), keep_alive(keep) {}

  // Takes the right to answer: false when an answer was given or the connection closed.
  bool claim() {
    std::lock_guard lock(mutex);
    if (answered || abandoned) return false;
    answered = true;
    on_abandoned = nullptr;
    return true;
  }

  bool is_answered() {
    std::lock_guard lock(mutex);
    return answered;
  }

  void hook(std::function<void()> f) {
    {
      std::lock_guard lock(mutex);
      if (answered) return;
      if (!abandoned) {
        on_abandoned = std::move(f);
        return;
      }
    }
    f();
  }

  // The connection closed (on the I/O thread).
  void abandon() {
    std::function<void()> f;
    {
      std::lock_guard lock(mutex);
      abandoned = true;
      f.swap(on_abandoned);
    }
    if (f) f();
  }

  void deliver(response res) {
    std::lock_guard lock(life->mutex);
    deliver_while_serving(std::move(res));
  }

  // Hands the answer to the I/O thread; the caller holds life->mutex.
  void deliver_while_serving(response res);

  server::impl& owner;  // touched only while life->serving, under its mutex
  const std::shared_ptr<lifetime> life;  // outlives the server
  const std::weak_ptr<session> connection;
  const bool keep_alive;
  std::mutex mutex;
  bool answered = false;
  bool abandoned = false;
  std::function<void()> on_abandoned;
};

void responder::send(response res) const {
  if (state_->claim()) state_->deliver(std::move(res));
}

void responder::send_from_worker(std::function<response()> make) const {
  if (!state_->claim()) return;
  std::lock_guard lock(state_->life->mutex);
  if (!state_->life->serving) return;
  auto& owner = state_->owner;
  std::function<void()> task = [answer = state_, make = std::move(make)] {
    answer->deliver(answer->owner.make_safely(make));
  };
  if (!owner.workers.try_post(task)) state_->deliver_while_serving(owner.busy());
}

void responder::on_abandoned(std::function<void()> abandoned) const { state_->hook(std::move(abandoned)); }

namespace {

// The record type that starts every TLS connection (a handshake record): any other first byte is
// a client speaking something else, usually plain HTTP, to the HTTPS port.
constexpr unsigned char tls_handshake_record = 0x16;
// What a TLS connection's first read asks for while it waits for a request.
constexpr size_t tls_first_read = 4096;

using tls_stream = beast::ssl_stream<tcp::socket>;
using any_stream = std::variant<tcp::socket, tls_stream>;

any_stream make_stream(tcp::socket socket, net::ssl::context* tls) {
  if (tls) return any_stream(std::in_place_type<tls_stream>, std::move(socket), *tls);
  return any_stream(std::in_place_type<tcp::socket>, std::move(socket));
}

class session : public std::enable_shared_from_this<session> {
 public:
  session(server::impl& server, tcp::socket socket, bool admitted)
      : server_(server),
        stream_(make_stream(std::move(socket), server.tls_context.get())),
        deadline_(this->socket().get_executor()),
        admitted_(admitted) {}

  ~session() {
    if (admitted_) server_.admitted.fetch_sub(1);
    std::lock_guard lock(server_.sessions_mutex);
    server_.sessions.erase(this);
  }

  void start() {
    if (tls()) return await_handshake();
    begin();
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    const auto keep = std::move(held_while_answering_);  // released when this returns
    deadline_.cancel();
    error_code ignored;
    socket().shutdown(tcp::socket::shutdown_both, ignored);
    socket().close(ignored);
    if (auto waiting = std::move(pending_)) waiting->abandon();
  }

  void respond(response res, bool keep_alive, bool then_linger = false) {
    if (closed_) return;
    const auto keep = std::move(held_while_answering_);
    pending_.reset();
    if (watching_) {  // the only operation on the socket while the answer was awaited
      watching_ = false;
      error_code ignored;
      socket().cancel(ignored);
    }
    prepare(std::move(res), keep_alive);
    arm(server_.options.write_timeout);
    std::visit(
        [&](auto& stream) {
          bhttp::async_write(stream, out_, [self = shared_from_this(), keep_alive, then_linger](error_code ec, size_t) {
            if (self->closed_) return;
            if (ec) return self->close();
            if (then_linger) return self->linger();
            if (!keep_alive) return self->close();
            self->await_request();
          });
        },
        stream_);
  }

  // While a handler's answer is awaited: a client that closes the connection is noticed at once
  // (its waiter is given up) instead of when the answer finally fails to go out.
  void watch_for_departure() {
    if (closed_ || !pending_ || watching_) return;
    watching_ = true;
    if (tls()) return watch_tls_for_departure();
    socket().async_wait(tcp::socket::wait_read, [self = shared_from_this()](error_code ec) {
      if (ec == net::error::operation_aborted || self->closed_ || !self->watching_) return;  // answered
      self->watching_ = false;
      if (ec) return self->close();
      char next = 0;
      error_code peek;
      const size_t seen = self->peek(next, peek);
      if (peek == net::error::would_block) return self->watch_for_departure();
      if (peek || seen == 0) return self->close();  // the client left (end of stream or reset)
      // The client already sent its next request (pipelining): it is read after this answer, and
      // a departure is no longer noticed early; the waiter ends with its own timeout.
    });
  }

 private:
  bool tls() const { return std::holds_alternative<tls_stream>(stream_); }

  tcp::socket& socket() {
    return std::visit([](auto& stream) -> tcp::socket& { return beast::get_lowest_layer(stream); }, stream_);
  }

  // Reads one byte without taking it from the socket; 0 with an error when none is there yet.
  size_t peek(char& next, error_code& ec) {
    socket().non_blocking(true, ec);
    const size_t seen = socket().receive(net::buffer(&next, 1), tcp::socket::message_peek, ec);
    error_code ignored;
    socket().non_blocking(false, ignored);
    return seen;
  }

  void arm(std::chrono::steady_clock::duration timeout) {
    deadline_.expires_after(timeout);
    deadline_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec) self->close();
    });
  }

  // Over the limit of connections, the client is told so (once it got through the handshake).
  void begin() {
    if (admitted_) return await_request();
    refuse(503, "Busy",
           "the node holds its limit of " + std::to_string(server_.options.max_connections) +
               " connections; retry later");
  }

  // TLS: the handshake, within the head's deadline. The first byte tells a TLS client from one
  // that speaks plain HTTP to this port, which is answered in plain HTTP rather than left with a
  // failed handshake.
  void await_handshake() {
    arm(server_.options.head_timeout);
    wait_for_first_byte();
  }

  void wait_for_first_byte() {
    socket().async_wait(tcp::socket::wait_read, [self = shared_from_this()](error_code ec) {
      if (self->closed_) return;
      if (ec) return self->close();
      char first = 0;
      error_code peek;
      const size_t seen = self->peek(first, peek);
      if (peek == net::error::would_block) return self->wait_for_first_byte();
      if (peek || seen == 0) return self->close();
      if (static_cast<unsigned char>(first) != tls_handshake_record) return self->refuse_plain_http();
      self->handshake();
    });
  }

  void handshake() {
    std::get<tls_stream>(stream_).async_handshake(net::ssl::stream_base::server, [self = shared_from_this()](error_code ec) {
      if (self->closed_) return;
      if (ec) {
        spdlog::debug("management API: a TLS handshake failed: {}", ec.message());
        return self->close();
      }
      self->begin();
    });
  }

  void refuse_plain_http() {
    prepare(server_.write_error(400, "HttpsRequired",
                                "this port of the management API serves HTTPS only: use https:// (with the CA that "
                                "signed the node's certificate, e.g. perdure --cacert)"),
            false);
    arm(server_.options.write_timeout);
    bhttp::async_write(socket(), out_, [self = shared_from_this()](error_code ec, size_t) {
      if (self->closed_) return;
      if (ec) return self->close();
      self->linger();
    });
  }

  void await_request() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_.options.header_limit));
    parser_->body_limit(server_.options.body_limit);
    if (buffer_.size() > 0) return read_head();  // the next request arrived with the last one
    arm(server_.options.idle_timeout);
    if (tls()) return await_tls_request();
    // Waiting without a read buffer: an idle connection costs a socket and a timer.
    socket().async_wait(tcp::socket::wait_read, [self = shared_from_this()](error_code ec) {
      if (self->closed_) return;
      if (ec) return self->close();
      self->read_head();
    });
  }

  // The next request's bytes may already wait inside the TLS layer, decrypted with the last
  // request's record or still encrypted in its buffer, where a wait on the socket would not see
  // them: so the first bytes are read (a TLS connection keeps its buffers anyway).
  void await_tls_request() {
    std::get<tls_stream>(stream_).async_read_some(
        buffer_.prepare(tls_first_read), [self = shared_from_this()](error_code ec, size_t bytes) {
          self->buffer_.commit(bytes);
          if (self->closed_) return;
          if (ec) return self->close();
          self->read_head();
        });
  }

  // TLS: a read, since a wait on the socket would take the client's close_notify for data. Bytes
  // that arrive are the next request's (pipelining), kept for after this answer.
  void watch_tls_for_departure() {
    std::get<tls_stream>(stream_).async_read_some(
        buffer_.prepare(tls_first_read), [self = shared_from_this()](error_code ec, size_t bytes) {
          self->buffer_.commit(bytes);
          if (ec == net::error::operation_aborted || self->closed_ || !self->watching_) return;  // answered
          self->watching_ = false;
          if (ec) return self->close();  // the client left
        });
  }

  void read_head() {
    arm(server_.options.head_timeout);
    std::visit(
        [&](auto& stream) {
          bhttp::async_read_header(stream, buffer_, *parser_, [self = shared_from_this()](error_code ec, size_t) {
            if (self->closed_) return;
            if (ec) return self->fail(ec);
            self->on_head();
          });
        },
        stream_);
  }

  void on_head() {
    const auto& message = parser_->get();
    if (message.count(bhttp::field::content_length) > 1 ||
        view(message[bhttp::field::content_length]).find(',') != std::string_view::npos)
      return refuse(400, "BadRequest", "the request has more than one Content-Length");
    if (message.count(bhttp::field::transfer_encoding) > 1 ||
        (message.count(bhttp::field::transfer_encoding) == 1 && !parser_->chunked()) ||
        (parser_->chunked() && !beast::iequals(message[bhttp::field::transfer_encoding], "chunked")))
      return refuse(400, "BadRequest", "the only transfer encoding served is 'chunked'");
    head_ = make_head(message);
    if (server_.options.refuse_head)
      if (auto refusal = server_.refusal_of(*head_)) return refuse(std::move(*refusal));
    if (beast::iequals(message[bhttp::field::expect], "100-continue")) {
      static const std::string go_on = "HTTP/1.1 100 Continue\r\n\r\n";
      arm(server_.options.write_timeout);
      return std::visit(
          [&](auto& stream) {
            net::async_write(stream, net::buffer(go_on), [self = shared_from_this()](error_code ec, size_t) {
              if (self->closed_) return;
              if (ec) return self->close();
              self->read_body();
            });
          },
          stream_);
    }
    read_body();
  }

  void read_body() {
    arm(server_.options.body_timeout);
    std::visit(
        [&](auto& stream) {
          bhttp::async_read(stream, buffer_, *parser_, [self = shared_from_this()](error_code ec, size_t) {
            if (self->closed_) return;
            if (ec) return self->fail(ec);
            self->dispatch();
          });
        },
        stream_);
  }

  void fail(error_code ec) {
    if (ec == bhttp::error::body_limit)
      return refuse(413, "PayloadTooLarge",
                    "the request body exceeds the limit of " + std::to_string(server_.options.body_limit) + " bytes");
    if (ec == bhttp::error::header_limit)
      return refuse(431, "HeaderTooLarge",
                    "the request line and headers exceed the limit of " +
                        std::to_string(server_.options.header_limit) + " bytes");
    const bool malformed = ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category() &&
                           ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message;
    if (malformed) return refuse(400, "BadRequest", "malformed HTTP request: " + ec.message());
    close();  // the peer left, or the socket failed: nobody to answer
  }

  void dispatch() {
    deadline_.cancel();  // the handler's own calls have timeouts, a later answer its own
    const bool keep_alive = parser_->get().keep_alive();
    auto req = std::make_shared<request>(std::move(*head_));
    head_.reset();
    req->body = std::move(parser_->release().body());
    const bool cheap = server_.is_cheap(*req);
    pending_ = std::make_shared<responder::state>(server_, weak_from_this(), keep_alive);
    // No read or write is under way until the answer: this is what keeps the connection open.
    held_while_answering_ = shared_from_this();
    std::function<void()> task = [self = shared_from_this(), req, answer = pending_] {
      self->server_.run(*req, responder{answer});
      if (!answer->is_answered()) net::post(self->socket().get_executor(), [self] { self->watch_for_departure(); });
    };
    if ((cheap ? server_.cheap_workers : server_.workers).try_post(task)) return;
    respond(server_.busy(), keep_alive);
  }

  // The transport's own refusal; the connection closes after it.
  void refuse(int status, const std::string& code, const std::string& message) {
    response res = server_.write_error(status, code, message);
    if (status == 503) res.headers.emplace_back("Retry-After", std::to_string(server_.options.retry_after.count()));
    refuse(std::move(res));
  }

  void refuse(response res) { respond(std::move(res), false, true); }

  void prepare(response res, bool keep_alive) {
    out_ = {};
    out_.version(11);
    out_.result(static_cast<unsigned>(res.status));
    out_.set(bhttp::field::content_type, res.content_type);
    for (auto& [name, value] : res.headers) out_.insert(name, value);
    out_.body() = std::move(res.body);
    out_.keep_alive(keep_alive);
    out_.prepare_payload();
  }

  // Sends FIN, then reads and discards what the client still sends, for a bounded time. On TLS
  // too the bytes are discarded as they come, undecrypted: only the client's answer matters.
  void linger() {
    error_code ignored;
    socket().shutdown(tcp::socket::shutdown_send, ignored);
    buffer_.clear();
    discard_.resize(16 * 1024);
    arm(linger_time);
    discard();
  }

  void discard() {
    socket().async_read_some(net::buffer(discard_), [self = shared_from_this()](error_code ec, size_t) {
      if (self->closed_) return;
      if (ec) return self->close();
      self->discard();
    });
  }

  server::impl& server_;
  any_stream stream_;
  net::steady_timer deadline_;
  bool admitted_;
  bool closed_ = false;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::optional<request> head_;  // the request being read, from its head on
  std::shared_ptr<responder::state> pending_;  // the answer awaited, from dispatch to respond
  std::shared_ptr<session> held_while_answering_;
  bool watching_ = false;
  bhttp::response<bhttp::string_body> out_;
  std::vector<char> discard_;
};

}  // namespace

void responder::state::deliver_while_serving(response res) {
  if (!life->serving) return;
  net::post(owner.io, [connection = connection, res = std::move(res), keep = keep_alive]() mutable {
    if (auto s = connection.lock()) s->respond(std::move(res), keep);
  });
}

void server::impl::accept() {
  acceptor.async_accept([this](error_code ec, tcp::socket socket) {
    if (!acceptor.is_open()) return;
    if (ec) {
      // E.g. out of file descriptors: retry shortly instead of spinning on the error.
      spdlog::warn("management API: accepting a connection failed: {}", ec.message());
      accept_retry.expires_after(std::chrono::milliseconds(50));
      accept_retry.async_wait([this](error_code e) {
        if (!e) accept();
      });
      return;
    }
    admit(std::move(socket));
    accept();
  });
}

void server::impl::admit(tcp::socket socket) {
  error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  const bool within_limit = admitted.fetch_add(1) < options.max_connections;
  if (!within_limit) admitted.fetch_sub(1);
  auto s = std::make_shared<session>(*this, std::move(socket), within_limit);
  {
    std::lock_guard lock(sessions_mutex);
    sessions.emplace(s.get(), s);
  }
  s->start();
}

void server::impl::close_all() {
  std::vector<std::shared_ptr<session>> open;
  {
    std::lock_guard lock(sessions_mutex);
    for (auto& [_, weak] : sessions)
      if (auto s = weak.lock()) open.push_back(std::move(s));
  }
  for (auto& s : open) s->close();
}

server::server(server_options options, deferring_handler handle, cheap_test is_cheap, error_writer write_error)
    : impl_(std::make_unique<impl>(options, std::move(handle), std::move(is_cheap), std::move(write_error))) {}

server::server(server_options options, handler handle, cheap_test is_cheap, error_writer write_error)
    : server(
          options, [handle = std::move(handle)](const request& req, responder out) { out.send(handle(req)); },
          std::move(is_cheap), std::move(write_error)) {}

server::~server() { stop(); }

int server::listen(const std::string& address, int port) {
  auto& s = *impl_;
  if (s.acceptor.is_open()) throw error("the management API is already listening");
  const std::string where = address + ":" + std::to_string(port);
  try {
    tcp::resolver resolver(s.io);
    const auto endpoint = resolver.resolve(address, std::to_string(port))->endpoint();
    s.acceptor.open(endpoint.protocol());
    s.acceptor.set_option(net::socket_base::reuse_address(true));
    s.acceptor.bind(endpoint);
    s.acceptor.listen(net::socket_base::max_listen_connections);  // SOMAXCONN
  } catch (const boost::system::system_error& e) {
    error_code ignored;
    s.acceptor.close(ignored);
    throw listen_error("cannot listen for the management API on " + where + ": " + e.code().message());
  }
  return s.acceptor.local_endpoint().port();
}

void server::serve() {
  auto& s = *impl_;
  if (s.io_thread.joinable()) throw error("the management API is already serving");
  {
    std::lock_guard lock(s.life->mutex);
    s.life->serving = true;
  }
  s.workers.start(s.options.workers, s.options.queue_limit);
  s.cheap_workers.start(1, s.options.queue_limit);
  s.accept();
  s.io_thread = std::thread([&s] {
    while (true) {
      try {
        s.io.run();
        return;
      } catch (const std::exception& e) {
        spdlog::error("management API: the I/O thread caught {}; it goes on", e.what());
      }
    }
  });
}

void server::stop() {
  auto& s = *impl_;
  if (!s.io_thread.joinable()) return;
  net::post(s.io, [&s] {
    error_code ignored;
    s.acceptor.close(ignored);
    s.accept_retry.cancel();
    s.close_all();
    s.io.stop();
  });
  s.io_thread.join();
  {
    std::lock_guard lock(s.life->mutex);
    s.life->serving = false;
  }
  s.workers.stop();
  s.cheap_workers.stop();
}

}  // namespace perdure::http
