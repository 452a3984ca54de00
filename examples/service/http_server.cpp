// Connections, limits, deadlines and draining on Boost.Beast/Asio. One I/O thread runs every
// socket operation, the accept loop and the timers; handler threads only post their answers
// back to it. A Session is one connection: read a request (header, then body) under one
// deadline, dispatch it, watch for a hang-up while it is handled, write the answer, repeat.
#include "http_server.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "task_pool.hpp"

namespace recur::service {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

// After an answer with `Connection: close`, what the client still sends is read and dropped
// for a while (bounded), so that closing does not reset the connection under the answer.
constexpr std::chrono::seconds kLingerTime{2};
constexpr size_t kLingerBytes = size_t{8} << 20;
constexpr size_t kLingerChunk = 16384;
// The accept loop's pause after a failed accept (out of file descriptors).
constexpr std::chrono::milliseconds kAcceptRetry{50};

std::string ms(std::chrono::milliseconds d) { return std::to_string(d.count()) + " ms"; }

}  // namespace

class Session;

struct HttpServer::Impl {
  HttpServerOptions options;
  HttpHandlers handlers;
  net::io_context ioc{1};
  net::executor_work_guard<net::io_context::executor_type> work{ioc.get_executor()};
  tcp::acceptor acceptor{ioc};
  net::steady_timer accept_retry{ioc};
  std::unique_ptr<TaskPool> pool;
  std::thread io_thread;
  std::atomic<bool> draining{false};
  std::set<std::shared_ptr<Session>> sessions;  // I/O thread only

  std::mutex stop_mu;     // serializes stop()
  mutable std::mutex mu;  // guards what follows
  std::condition_variable cv;
  Counts counts;
  bool started = false, stopped = false;

  Impl(const HttpServerOptions& o, HttpHandlers h) : options(o), handlers(std::move(h)) {}

  void count(uint64_t Counts::*field, int64_t delta) {
    std::lock_guard<std::mutex> lock(mu);
    counts.*field += static_cast<uint64_t>(delta);
    cv.notify_all();
  }

  void accept();
  void on_accept(const beast::error_code& ec, tcp::socket socket);
  void reject(tcp::socket& socket);
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HttpServer::Impl& server)
      : server_(server), socket_(std::move(socket)), deadline_(socket_.get_executor()) {
    beast::error_code ec;
    const tcp::endpoint peer = socket_.remote_endpoint(ec);
    if (!ec) peer_ = peer.address().to_string() + ":" + std::to_string(peer.port());
  }

  void start() { read_request(); }

  // Draining: a connection waiting for its next request is closed now.
  void close_if_idle() {
    if (phase_ == Phase::reading && !parser_->got_some() && buffer_.size() == 0) close();
  }

  // Stopping: whatever it is doing, the connection ends; its queued request is dropped.
  void shut() {
    if (gone_) gone_->store(true);
    close();
  }

 private:
  enum class Phase { reading, handling, writing, lingering, closed };

  // One deadline at a time: on expiry every pending operation on the socket is cancelled
  // and completes with operation_aborted, with timed_out_ telling why.
  void arm(std::chrono::milliseconds d) {
    timed_out_ = false;
    deadline_.expires_after(d);
    deadline_.async_wait([self = shared_from_this()](const beast::error_code& ec) {
      if (ec || self->phase_ == Phase::closed) return;
      self->timed_out_ = true;
      beast::error_code ignored;
      self->socket_.cancel(ignored);
    });
  }

  void read_request() {
    phase_ = Phase::reading;
    request_.reset();
    gone_ = std::make_shared<std::atomic<bool>>(false);
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(server_.options.max_header_bytes));
    parser_->body_limit(server_.options.max_body_bytes);
    arm(server_.options.read_timeout);
    http::async_read_header(socket_, buffer_, *parser_,
                            [self = shared_from_this()](const beast::error_code& ec, size_t) { self->on_header(ec); });
  }

  void on_header(const beast::error_code& ec) {
    if (ec) return on_read_error(ec);
    const auto& header = parser_->get();
    if (static_cast<size_t>(std::distance(header.begin(), header.end())) > server_.options.max_header_fields) {
      return fail(431, "the request has more than " + std::to_string(server_.options.max_header_fields) +
                           " header fields");
    }
    if (beast::iequals(header[http::field::expect], "100-continue")) {
      static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      return net::async_write(socket_, net::buffer(kContinue),
                              [self = shared_from_this()](const beast::error_code& e, size_t) {
                                if (e) return self->close();
                                self->read_body();
                              });
    }
    read_body();
  }

  void read_body() {
    http::async_read(socket_, buffer_, *parser_,
                     [self = shared_from_this()](const beast::error_code& ec, size_t) { self->on_body(ec); });
  }

  void on_read_error(const beast::error_code& ec) {
    const bool started = parser_->got_some();
    if (timed_out_) {
      server_.count(&HttpServer::Counts::timed_out, 1);
      if (!started) return close();  // an idle keep-alive connection
      return fail(408, "the request did not arrive whole within the read timeout of " +
                           ms(server_.options.read_timeout));
    }
    if (ec == http::error::body_limit) {
      return fail(413, "the body is larger than the limit of " + std::to_string(server_.options.max_body_bytes) +
                           " bytes");
    }
    if (ec == http::error::header_limit) {
      return fail(431, "the request line and header are larger than the limit of " +
                           std::to_string(server_.options.max_header_bytes) + " bytes");
    }
    if (ec.category() == beast::error_code(http::error::end_of_stream).category() && ec != http::error::end_of_stream &&
        ec != http::error::partial_message) {
      return fail(400, "unreadable HTTP request: " + ec.message());
    }
    close();  // the client went away (between requests or in the middle of one)
  }

  void on_body(const beast::error_code& ec) {
    if (ec) return on_read_error(ec);
    deadline_.cancel();
    http::request<http::string_body> msg = parser_->release();
    auto req = std::make_shared<HttpRequest>();
    req->method = std::string(msg.method_string());
    req->target = std::string(msg.target());
    req->path = req->target.substr(0, req->target.find('?'));
    req->version = msg.version();
    req->content_type = std::string(msg[http::field::content_type]);
    req->body = std::move(msg.body());
    req->peer = peer_;
    req->received = Clock::now();
    req->client_gone = gone_;
    request_ = std::move(req);
    keep_alive_ = msg.keep_alive();
    set_busy(true);

    if (server_.handlers.answer_inline(*request_)) {
      HttpResponse res;
      run_handler(*request_, res);
      return respond(std::move(res));
    }
    phase_ = Phase::handling;
    const bool queued = server_.pool->try_post([self = shared_from_this(), req = request_] {
      HttpResponse res;
      if (req->gone()) {
        res.status = kClientClosed;
      } else {
        self->run_handler(*req, res);
      }
      net::post(self->socket_.get_executor(),
                [self, res = std::move(res)]() mutable { self->on_handled(std::move(res)); });
    });
    if (!queued) {
      return fail(503, "overloaded: " + std::to_string(server_.options.max_queued) +
                           " requests already wait for a handler thread", /*close_after=*/false);
    }
    watch();
  }

  void run_handler(const HttpRequest& req, HttpResponse& res) {
    try {
      server_.handlers.handle(req, res);
    } catch (const std::bad_alloc&) {
      res = HttpResponse{};
      res.status = 503;
      server_.handlers.error_body("out of memory while handling the request", res);
    } catch (const std::exception& e) {
      res = HttpResponse{};
      res.status = 500;
      server_.handlers.error_body(std::string("internal error: ") + e.what(), res);
    }
  }

  // While the request is handled: a readable socket with nothing to read is a hang-up.
  void watch() {
    socket_.async_wait(tcp::socket::wait_read, [self = shared_from_this()](const beast::error_code& ec) {
      if (ec || self->phase_ != Phase::handling) return;
      char c;
      const ssize_t n = ::recv(self->socket_.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        self->gone_->store(true);
      } else if (n < 0) {
        self->watch();
      }  // n > 0: the next request is already arriving, so the client is still there
    });
  }

  void on_handled(HttpResponse res) {
    if (phase_ != Phase::handling || gone_->load()) {  // hung up, or shut by stop()
      res.status = kClientClosed;
      server_.handlers.on_response(*request_, res);
      return close();
    }
    beast::error_code ignored;
    socket_.cancel(ignored);  // the watch
    respond(std::move(res));
  }

  // An answer the server makes itself; by default the connection closes after it.
  void fail(int status, const std::string& message, bool close_after = true) {
    if (!request_) {
      auto req = std::make_shared<HttpRequest>();
      req->method = "-";
      if (!parser_->get().method_string().empty()) {  // the request line was read
        req->method = std::string(parser_->get().method_string());
        req->target = std::string(parser_->get().target());
        req->path = req->target.substr(0, req->target.find('?'));
        req->version = parser_->get().version();
      }
      req->peer = peer_;
      req->received = Clock::now();
      request_ = std::move(req);
      set_busy(true);
    }
    if (close_after) keep_alive_ = false;
    HttpResponse res;
    res.status = status;
    server_.handlers.error_body(message, res);
    respond(std::move(res));
  }

  void respond(HttpResponse res) {
    server_.handlers.on_response(*request_, res);
    response_ = {};
    response_.version(request_->version);
    response_.result(static_cast<unsigned>(res.status));
    response_.set(http::field::content_type, res.content_type);
    for (const auto& [name, value] : res.headers) response_.set(name, value);
    response_.keep_alive(keep_alive_ && !server_.draining);
    response_.body() = std::move(res.body);
    response_.prepare_payload();
    phase_ = Phase::writing;
    arm(server_.options.write_timeout);
    http::async_write(socket_, response_, [self = shared_from_this()](const beast::error_code& ec, size_t) {
      self->on_write(ec);
    });
  }

  void on_write(const beast::error_code& ec) {
    set_busy(false);
    if (ec) {
      if (timed_out_) server_.count(&HttpServer::Counts::timed_out, 1);
      return close();
    }
    if (!response_.keep_alive()) return linger();
    read_request();
  }

  // Half-closes, then drops what the client still sends until it closes too (bounded).
  void linger() {
    phase_ = Phase::lingering;
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    linger_buffer_.resize(kLingerChunk);
    arm(std::chrono::duration_cast<std::chrono::milliseconds>(kLingerTime));
    linger_read();
  }

  void linger_read() {
    socket_.async_read_some(net::buffer(linger_buffer_),
                            [self = shared_from_this()](const beast::error_code& ec, size_t n) {
                              self->lingered_ += n;
                              if (ec || self->lingered_ > kLingerBytes) return self->close();
                              self->linger_read();
                            });
  }

  void set_busy(bool busy) {
    if (busy == busy_) return;
    busy_ = busy;
    server_.count(&HttpServer::Counts::busy, busy ? 1 : -1);
  }

  void close() {
    if (phase_ == Phase::closed) return;
    const std::shared_ptr<Session> self = shared_from_this();  // the set may hold the last reference
    phase_ = Phase::closed;
    set_busy(false);
    deadline_.cancel();
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    server_.count(&HttpServer::Counts::open, -1);
    server_.sessions.erase(self);
  }

  HttpServer::Impl& server_;
  tcp::socket socket_;
  net::steady_timer deadline_;
  std::string peer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<HttpRequest> request_;     // the one being answered
  std::shared_ptr<std::atomic<bool>> gone_;  // request_'s client_gone
  http::response<http::string_body> response_;
  std::vector<char> linger_buffer_;
  size_t lingered_ = 0;
  Phase phase_ = Phase::reading;
  bool keep_alive_ = false;
  bool timed_out_ = false;
  bool busy_ = false;
};

void HttpServer::Impl::accept() {
  acceptor.async_accept([this](const beast::error_code& ec, tcp::socket socket) {
    on_accept(ec, std::move(socket));
  });
}

void HttpServer::Impl::on_accept(const beast::error_code& ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
  if (ec) {  // EMFILE and the like: try again shortly rather than spin
    accept_retry.expires_after(kAcceptRetry);
    accept_retry.async_wait([this](const beast::error_code& e) {
      if (!e) accept();
    });
    return;
  }
  count(&Counts::accepted, 1);
  if (sessions.size() >= options.max_connections) {
    reject(socket);
  } else {
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto session = std::make_shared<Session>(std::move(socket), *this);
    sessions.insert(session);
    count(&Counts::open, 1);
    session->start();
  }
  accept();
}

// A connection beyond max_connections: a 503 if the socket takes it at once, then closed.
void HttpServer::Impl::reject(tcp::socket& socket) {
  count(&Counts::rejected, 1);
  HttpResponse res;
  handlers.error_body("too many connections (the limit is " + std::to_string(options.max_connections) + ")",
                      res);
  const std::string text = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: " + res.content_type +
                           "\r\nContent-Length: " + std::to_string(res.body.size()) +
                           "\r\nConnection: close\r\n\r\n" + res.body;
  ::send(socket.native_handle(), text.data(), text.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  beast::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

HttpServer::HttpServer(const HttpServerOptions& options, HttpHandlers handlers)
    : impl_(std::make_unique<Impl>(options, std::move(handlers))) {}

HttpServer::~HttpServer() { stop(std::chrono::milliseconds(0)); }

Result<int> HttpServer::start() {
  Impl& s = *impl_;
  const std::string where = s.options.host + ":" + std::to_string(s.options.port);
  beast::error_code ec;
  tcp::resolver resolver(s.ioc);
  const auto endpoints = resolver.resolve(s.options.host, std::to_string(s.options.port),
                                          tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || endpoints.empty()) return Status(Errc::io, "cannot resolve " + where + ": " + ec.message());
  const tcp::endpoint endpoint = endpoints.begin()->endpoint();
  // SO_REUSEADDR (a restart can rebind at once), never SO_REUSEPORT (a second server would
  // silently share the port).
  if (s.acceptor.open(endpoint.protocol(), ec) || s.acceptor.set_option(net::socket_base::reuse_address(true), ec) ||
      s.acceptor.bind(endpoint, ec) || s.acceptor.listen(net::socket_base::max_listen_connections, ec)) {
    return Status(Errc::io, "cannot listen on " + where + " (in use, or not an address of this host?): " +
                                ec.message());
  }
  const int port = s.acceptor.local_endpoint(ec).port();
  s.pool = std::make_unique<TaskPool>(s.options.handler_threads, s.options.max_queued);
  s.accept();
  s.io_thread = std::thread([&s] {
    for (;;) {
      try {
        s.ioc.run();
        return;
      } catch (const std::exception&) {  // out of memory in a completion: that connection is lost, not the server
      }
    }
  });
  std::lock_guard<std::mutex> lock(s.mu);
  s.started = true;
  return port;
}

void HttpServer::drain() {
  Impl& s = *impl_;
  if (s.draining.exchange(true)) return;
  net::post(s.ioc, [&s] {
    const std::set<std::shared_ptr<Session>> sessions = s.sessions;  // close() erases
    for (const auto& session : sessions) session->close_if_idle();
  });
}

bool HttpServer::draining() const noexcept { return impl_->draining; }

void HttpServer::stop(std::chrono::milliseconds deadline) {
  Impl& s = *impl_;
  std::lock_guard<std::mutex> serial(s.stop_mu);
  {
    std::unique_lock<std::mutex> lock(s.mu);
    if (!s.started || s.stopped) return;
  }
  drain();
  {
    std::unique_lock<std::mutex> lock(s.mu);
    s.cv.wait_for(lock, deadline, [&] { return s.counts.busy == 0; });
  }
  net::post(s.ioc, [&s] {
    beast::error_code ignored;
    s.acceptor.close(ignored);
    s.accept_retry.cancel();
    const std::set<std::shared_ptr<Session>> sessions = s.sessions;
    for (const auto& session : sessions) session->shut();
  });
  s.pool->shutdown();  // queued requests see their client gone; running ones finish
  s.work.reset();
  net::post(s.ioc, [&s] { s.ioc.stop(); });  // after every answer the handlers posted
  if (s.io_thread.joinable()) s.io_thread.join();
  s.ioc.restart();
  s.ioc.poll();  // completions still queued, so their sessions end on this thread
  std::lock_guard<std::mutex> lock(s.mu);
  s.stopped = true;
  s.cv.notify_all();
}

void HttpServer::wait() {
  Impl& s = *impl_;
  std::unique_lock<std::mutex> lock(s.mu);
  s.cv.wait(lock, [&] { return s.stopped || !s.started; });
}

HttpServer::Counts HttpServer::counts() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->counts;
}

}  // namespace recur::service
