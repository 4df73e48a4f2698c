#include "http/h2_server.h"

#include <fmt/format.h>
#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <map>

#include "http/syntax.h"

namespace glidepath::http {
namespace {

std::string_view view(const uint8_t* data, size_t length) {
  return {reinterpret_cast<const char*>(data), length};
}

// A request stream: the head as it arrives, then the response queued for it.
struct Stream {
  int32_t id = 0;
  // Arrival: pseudo-headers and fields, owned here; `head` views them once complete.
  std::string method, path, authority, scheme, protocol, host_field;
  std::string cookie;  // crumbs joined (RFC 9113 8.2.3)
  std::vector<std::pair<std::string, std::string>> fields;
  size_t header_bytes = 0;
  bool too_large = false;
  int host_fields = 0;
  RequestHead head;
  bool started = false;  // the handler has it (on_request was called)
  bool refused = false;  // answered by the session itself

  // Response body queued by the owner, sent as the window allows.
  std::string out;
  size_t out_sent = 0;  // of `out`
  bool out_ended = false;
  bool deferred = false;  // nghttp2 waits for resume_data
};

}  // namespace

struct H2ServerSession::Impl {
  H2Settings settings;
  Handler* handler = nullptr;
  nghttp2_session* session = nullptr;
  std::map<int32_t, std::unique_ptr<Stream>> streams;

  ~Impl() {
    if (session != nullptr) nghttp2_session_del(session);
  }

  Stream* find(int32_t id) const {
    auto it = streams.find(id);
    return it == streams.end() ? nullptr : it->second.get();
  }

  // ---- nghttp2 callbacks (C: nothing may throw through them) ----

  static Impl& self(void* user_data) { return *static_cast<Impl*>(user_data); }

  static int on_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    try {
      auto stream = std::make_unique<Stream>();
      stream->id = frame->hd.stream_id;
      self(user_data).streams[stream->id] = std::move(stream);
      return 0;
    } catch (const std::exception&) {
      return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
  }

  static int on_header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                       size_t name_length, const uint8_t* value, size_t value_length,
                       uint8_t /*flags*/, void* user_data) {
    Impl& impl = self(user_data);
    Stream* stream = impl.find(frame->hd.stream_id);
    // Trailers (a second HEADERS) are not forwarded: the upstream request is already on
    // its way with its own framing.
    if (stream == nullptr || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    stream->header_bytes += name_length + value_length + 32;
    if (stream->header_bytes > impl.settings.max_header_list_bytes) {
      stream->too_large = true;
      return 0;
    }
    if (stream->too_large) return 0;
    try {
      const std::string_view n = view(name, name_length);
      const std::string_view v = view(value, value_length);
      if (n == ":method") {
        stream->method = v;
      } else if (n == ":path") {
        stream->path = v;
      } else if (n == ":authority") {
        stream->authority = v;
      } else if (n == ":scheme") {
        stream->scheme = v;
      } else if (n == ":protocol") {
        stream->protocol = v;
      } else if (n == "cookie") {
        if (!stream->cookie.empty()) stream->cookie += "; ";
        stream->cookie += v;
      } else if (n == "host") {
        ++stream->host_fields;
        stream->host_field = v;
      } else {
        stream->fields.emplace_back(n, v);
      }
      return 0;
    } catch (const std::exception&) {
      return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // this stream only
    }
  }

  static int on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    Impl& impl = self(user_data);
    Stream* stream = impl.find(frame->hd.stream_id);
    if (stream == nullptr) return 0;
    const bool end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    try {
      if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
        impl.complete_head(*stream, end_stream);
      } else if (end_stream && stream->started && !stream->refused) {
        impl.handler->on_request_end(stream->id);
      }
      return 0;
    } catch (const std::exception&) {
      return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
  }

  static int on_data_chunk(nghttp2_session* session, uint8_t /*flags*/, int32_t stream_id,
                           const uint8_t* data, size_t length, void* user_data) {
    Impl& impl = self(user_data);
    Stream* stream = impl.find(stream_id);
    if (stream == nullptr || !stream->started || stream->refused) {
      // Nobody forwards it: the window reopens at once.
      nghttp2_session_consume(session, stream_id, length);
      return 0;
    }
    try {
      impl.handler->on_request_data(stream_id, {reinterpret_cast<const char*>(data), length});
      return 0;
    } catch (const std::exception&) {
      return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
  }

  static int on_stream_close(nghttp2_session*, int32_t stream_id, uint32_t error_code,
                             void* user_data) {
    Impl& impl = self(user_data);
    auto it = impl.streams.find(stream_id);
    if (it == impl.streams.end()) return 0;
    const bool tell = it->second->started && !it->second->refused;
    impl.streams.erase(it);
    if (!tell) return 0;
    try {
      impl.handler->on_stream_closed(stream_id, error_code);
      return 0;
    } catch (const std::exception&) {
      return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
  }

  static ssize_t read_body(nghttp2_session*, int32_t stream_id, uint8_t* buffer, size_t length,
                           uint32_t* data_flags, nghttp2_data_source*, void* user_data) {
    Stream* stream = self(user_data).find(stream_id);
    if (stream == nullptr) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    const size_t available = stream->out.size() - stream->out_sent;
    if (available == 0 && !stream->out_ended) {
      stream->deferred = true;
      return NGHTTP2_ERR_DEFERRED;
    }
    const size_t n = std::min(available, length);
    std::memcpy(buffer, stream->out.data() + stream->out_sent, n);
    stream->out_sent += n;
    if (stream->out_sent == stream->out.size()) {
      stream->out.clear();
      stream->out_sent = 0;
      if (stream->out_ended) *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    } else if (stream->out_sent > 64 * 1024) {
      stream->out.erase(0, stream->out_sent);  // keep the queue from growing at the front
      stream->out_sent = 0;
    }
    return static_cast<ssize_t>(n);
  }

  // ---- requests ----

  // The head is complete: refuse it here, or hand it over as an HTTP/1.1-shaped head.
  void complete_head(Stream& stream, bool end_stream) {
    if (stream.too_large) return refuse(stream, 431, "request header fields too large");
    if (stream.method == "CONNECT") return refuse(stream, 501, "CONNECT is not supported");
    if (stream.path.empty() || stream.path.front() != '/') {
      // nghttp2 has checked presence; "*" (OPTIONS) or an absolute path only.
      if (!(stream.method == "OPTIONS" && stream.path == "*")) {
        return refuse(stream, 400, "invalid :path");
      }
    }
    if (stream.path.find('#') != std::string::npos) {
      return refuse(stream, 400, "fragment in :path");
    }
    if (stream.host_fields > 1) return refuse(stream, 400, "multiple Host headers");
    // RFC 9113 8.3.1: :authority, else Host; when both, they must name the same authority
    // or a router reading one and an upstream the other could disagree.
    std::string& authority = stream.authority.empty() ? stream.host_field : stream.authority;
    if (!stream.authority.empty() && stream.host_fields == 1 &&
        !iequals(stream.host_field, stream.authority)) {
      return refuse(stream, 400, "Host disagrees with :authority");
    }
    RequestHead& head = stream.head;
    if (!syntax::host_of_authority(authority, head.host)) {
      return refuse(stream, 400, "invalid :authority");
    }
    head.method = stream.method;
    head.target = stream.path;
    head.version_minor = 1;
    head.keep_alive = true;
    head.headers.clear();
    head.headers.reserve(stream.fields.size() + 2);
    if (!authority.empty()) head.headers.push_back({"host", authority});
    for (const auto& [name, value] : stream.fields) {
      head.headers.push_back({name, value});
      if (name == "expect" && iequals(value, "100-continue")) head.expect_continue = true;
    }
    if (!stream.cookie.empty()) head.headers.push_back({"cookie", stream.cookie});
    // A content-length nghttp2 will hold the DATA to; without one a body of unknown
    // length, which the HTTP/1.1 upstream gets chunked.
    const std::string_view length = head.find("content-length");
    if (!length.empty()) {
      uint64_t value = 0;
      for (char c : length) {
        if (c < '0' || c > '9' || value > (UINT64_MAX - 9) / 10) {
          return refuse(stream, 400, "invalid content-length");
        }
        value = value * 10 + static_cast<uint64_t>(c - '0');
      }
      head.framing = BodyFraming::length;
      head.content_length = value;
    } else {
      head.framing = end_stream ? BodyFraming::none : BodyFraming::chunked;
    }
    stream.started = true;
    handler->on_request(stream.id, head, end_stream);
  }

  // Answers the stream ourselves; nothing of it reaches the handler. When even that
  // fails (the stream is already closing), the client gets a stream error instead.
  void refuse(Stream& stream, int status, std::string_view message) {
    stream.refused = true;
    stream.out = fmt::format("{{\"error\": \"{}\"}}", message);
    stream.out_ended = true;
    const std::string length = std::to_string(stream.out.size());
    if (!submit(stream.id,
                {status, {{"content-type", "application/json"}, {"content-length", length}}},
                true)) {
      nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, stream.id, NGHTTP2_PROTOCOL_ERROR);
    }
  }

  core::Result<void> submit(int32_t id, const H2ResponseHead& head, bool has_body) {
    const std::string status = std::to_string(head.status);
    std::vector<nghttp2_nv> fields;
    fields.reserve(head.headers.size() + 1);
    const auto add = [&](std::string_view name, std::string_view value) {
      fields.push_back(
          nghttp2_nv{const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>(name.data())),
                     const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>(value.data())),
                     name.size(), value.size(), NGHTTP2_NV_FLAG_NONE});
    };
    add(":status", status);
    for (const auto& [name, value] : head.headers)
      add(name, value);
    nghttp2_data_provider provider{};
    provider.read_callback = &Impl::read_body;
    const int rv = nghttp2_submit_response(session, id, fields.data(), fields.size(),
                                           has_body ? &provider : nullptr);
    if (rv != 0) {
      return core::fail(
          fmt::format("HTTP/2 stream {}: cannot respond: {}", id, nghttp2_strerror(rv)));
    }
    return {};
  }
};

H2ServerSession::H2ServerSession(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
H2ServerSession::~H2ServerSession() = default;

core::Result<std::unique_ptr<H2ServerSession>> H2ServerSession::create(const H2Settings& settings,
                                                                       Handler& handler) {
  auto impl = std::make_unique<Impl>();
  impl->settings = settings;
  impl->handler = &handler;

  nghttp2_session_callbacks* callbacks = nullptr;
  if (nghttp2_session_callbacks_new(&callbacks) != 0) return core::fail("HTTP/2: out of memory");
  nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, &Impl::on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, &Impl::on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &Impl::on_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &Impl::on_data_chunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &Impl::on_stream_close);

  nghttp2_option* option = nullptr;
  if (nghttp2_option_new(&option) != 0) {
    nghttp2_session_callbacks_del(callbacks);
    return core::fail("HTTP/2: out of memory");
  }
  // Request bodies open their window only as they are forwarded (consumed()).
  nghttp2_option_set_no_auto_window_update(option, 1);
  nghttp2_option_set_stream_reset_rate_limit(option, settings.reset_burst,
                                             settings.resets_per_second);
  nghttp2_option_set_max_continuations(option, settings.max_continuations);
  nghttp2_option_set_max_settings(option, settings.max_settings_entries);
  nghttp2_option_set_max_outbound_ack(option, settings.max_outbound_acks);
  // Streams the client already closed are not kept for priority bookkeeping.
  nghttp2_option_set_no_closed_streams(option, 1);

  const int created = nghttp2_session_server_new2(&impl->session, callbacks, impl.get(), option);
  nghttp2_option_del(option);
  nghttp2_session_callbacks_del(callbacks);
  if (created != 0) return core::fail(fmt::format("HTTP/2: {}", nghttp2_strerror(created)));

  const nghttp2_settings_entry entries[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, settings.max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, settings.initial_window_bytes},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, settings.max_header_list_bytes},
  };
  int rv = nghttp2_submit_settings(impl->session, NGHTTP2_FLAG_NONE, entries,
                                   sizeof entries / sizeof entries[0]);
  if (rv == 0 && settings.connection_window_bytes > NGHTTP2_INITIAL_CONNECTION_WINDOW_SIZE) {
    rv = nghttp2_session_set_local_window_size(
        impl->session, NGHTTP2_FLAG_NONE, 0,
        static_cast<int32_t>(settings.connection_window_bytes));
  }
  if (rv != 0) return core::fail(fmt::format("HTTP/2: {}", nghttp2_strerror(rv)));
  return std::unique_ptr<H2ServerSession>(new H2ServerSession(std::move(impl)));
}

core::Result<void> H2ServerSession::receive(std::span<const char> bytes) {
  const ssize_t rv = nghttp2_session_mem_recv(
      impl_->session, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  if (rv < 0) {
    // A connection error: a flood (the client does not read what it asked for) queues
    // nothing more, and the connection just ends. Where nghttp2 ends the session itself
    // (too many resets, CONTINUATION frames or SETTINGS entries) receive() succeeds, a
    // GOAWAY is queued, and alive() turns false once it has been produced.
    return core::fail(fmt::format("HTTP/2: {}", nghttp2_strerror(static_cast<int>(rv))));
  }
  return {};
}

bool H2ServerSession::produce(std::string& out) {
  bool any = false;
  while (true) {
    const uint8_t* data = nullptr;
    const ssize_t n = nghttp2_session_mem_send(impl_->session, &data);
    if (n <= 0) break;
    out.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
    any = true;
  }
  return any;
}

bool H2ServerSession::alive() const {
  return nghttp2_session_want_read(impl_->session) != 0 ||
         nghttp2_session_want_write(impl_->session) != 0;
}

core::Result<void> H2ServerSession::respond(int32_t stream, const H2ResponseHead& head,
                                            bool has_body) {
  Stream* s = impl_->find(stream);
  if (s == nullptr || !s->started || s->refused) {
    return core::fail(fmt::format("HTTP/2 stream {} is gone", stream));
  }
  if (!has_body) s->out_ended = true;
  return impl_->submit(stream, head, has_body);
}

void H2ServerSession::append_body(int32_t stream, std::span<const char> data) {
  Stream* s = impl_->find(stream);
  if (s == nullptr || s->out_ended || data.empty()) return;
  s->out.append(data.data(), data.size());
  if (s->deferred) {
    s->deferred = false;
    nghttp2_session_resume_data(impl_->session, stream);
  }
}

void H2ServerSession::end_body(int32_t stream) {
  Stream* s = impl_->find(stream);
  if (s == nullptr || s->out_ended) return;
  s->out_ended = true;
  if (s->deferred) {
    s->deferred = false;
    nghttp2_session_resume_data(impl_->session, stream);
  }
}

size_t H2ServerSession::buffered(int32_t stream) const {
  const Stream* s = impl_->find(stream);
  return s == nullptr ? 0 : s->out.size() - s->out_sent;
}

void H2ServerSession::consumed(int32_t stream, size_t bytes) {
  if (bytes == 0) return;
  if (nghttp2_session_consume(impl_->session, stream, bytes) != 0) {
    nghttp2_session_consume_connection(impl_->session, bytes);  // the stream is gone
  }
}

void H2ServerSession::reset(int32_t stream, uint32_t error_code) {
  nghttp2_submit_rst_stream(impl_->session, NGHTTP2_FLAG_NONE, stream, error_code);
}

void H2ServerSession::shut_down() {
  nghttp2_submit_shutdown_notice(impl_->session);
  nghttp2_submit_goaway(impl_->session, NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(impl_->session), NGHTTP2_NO_ERROR,
                        nullptr, 0);
}

size_t H2ServerSession::open_streams() const {
  return impl_->streams.size();
}

}  // namespace glidepath::http
