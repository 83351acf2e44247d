// ifmesh's own DataChannel stack (include/ifmesh/rtc) as a Node.js addon, for
// clients/js/src/native_rtc.js, which puts the W3C RTCPeerConnection API over it.
//
// Threading: the connection's I/O thread never calls into JavaScript. It queues every event
// (its own and its channels') in the connection's EventSink, and the first event after the main
// thread took the previous batch calls the sink's thread-safe function once; the main thread
// then takes the whole batch and hands each event to the connection's JavaScript callback.
// Every method runs on the main thread; sends go straight to the channel's queue, which never
// waits for JavaScript. After close() the sink drops events, and its thread-safe function is
// released, so a callback that runs late calls nothing.
#include <node_api.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "ifmesh/error.hpp"
#include "ifmesh/rtc/peer_connection.hpp"

namespace {

using ifmesh::DataChannel;
using ifmesh::PeerConnection;

// What the JavaScript callback gets as its first argument.
enum class Kind : std::int32_t {
  Candidate = 0,          // (candidate, mid); an empty candidate ends the candidates
  State = 1,              // (state)
  DataChannel = 2,        // key, (label, protocol): a channel the peer opened
  ChannelOpen = 3,        // key
  ChannelClose = 4,       // key
  ChannelError = 5,       // key, (text)
  ChannelMessage = 6,     // key, (string | ArrayBuffer)
  BufferedAmountLow = 7,  // key
};

struct Event {
  Kind kind;
  std::uint32_t key = 0;
  std::string text;
  std::string mid;
  ifmesh::Message message;
  std::shared_ptr<DataChannel> channel;
};

class EventSink {
 public:
  explicit EventSink(napi_threadsafe_function tsfn) : tsfn_(tsfn) {}

  void emit(Event event) {
    std::lock_guard lock(mutex_);
    if (!tsfn_) return;
    events_.push_back(std::move(event));
    if (wakePending_) return;
    wakePending_ = true;
    napi_call_threadsafe_function(tsfn_, nullptr, napi_tsfn_nonblocking);
  }

  std::vector<Event> take() {
    std::vector<Event> out;
    std::lock_guard lock(mutex_);
    out.swap(events_);
    wakePending_ = false;
    return out;
  }

  // Drops what waits and releases the thread-safe function; idempotent.
  void close() {
    std::vector<Event> dropped;  // destroyed outside the lock: they may hold channels
    napi_threadsafe_function tsfn;
    {
      std::lock_guard lock(mutex_);
      dropped.swap(events_);
      tsfn = tsfn_;
      tsfn_ = nullptr;
    }
    // Abort: calls still queued reach callJs without an environment, which then does nothing;
    // the Connection they would drain may be gone.
    if (tsfn) napi_release_threadsafe_function(tsfn, napi_tsfn_abort);
  }

 private:
  std::mutex mutex_;
  std::vector<Event> events_;
  bool wakePending_ = false;
  napi_threadsafe_function tsfn_;
};

void hookChannel(DataChannel& channel, const std::shared_ptr<EventSink>& sink, std::uint32_t key) {
  auto simple = [&](Kind kind) {
    return [sink, key, kind] { sink->emit(Event{kind, key, {}, {}, {}, {}}); };
  };
  channel.onOpen(simple(Kind::ChannelOpen));
  channel.onClose(simple(Kind::ChannelClose));
  channel.onBufferedAmountLow(simple(Kind::BufferedAmountLow));
  channel.onError([sink, key](const std::string& text) {
    sink->emit(Event{Kind::ChannelError, key, text, {}, {}, {}});
  });
  channel.onMessage([sink, key](ifmesh::Message&& message) {
    Event e{Kind::ChannelMessage, key, {}, {}, {}, {}};
    e.message = std::move(message);
    sink->emit(std::move(e));
  });
}

// ---- small N-API helpers; a failed call leaves a pending JavaScript exception ----

bool throwError(napi_env env, const char* code, const std::string& message) {
  napi_value msg, err, codeValue;
  napi_create_string_utf8(env, message.c_str(), message.size(), &msg);
  napi_create_error(env, nullptr, msg, &err);
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &codeValue);
  napi_set_named_property(env, err, "code", codeValue);
  napi_throw(env, err);
  return false;
}

// The error's `code`: the Errc's name, as the Python binding names its exception classes.
const char* codeName(ifmesh::Errc code) {
  using ifmesh::Errc;
  switch (code) {
    case Errc::InvalidArgument:
      return "InvalidArgument";
    case Errc::InvalidState:
      return "InvalidState";
    case Errc::MalformedSdp:
      return "MalformedSdp";
    case Errc::MalformedCandidate:
      return "MalformedCandidate";
    case Errc::MalformedDcep:
      return "MalformedDcep";
    case Errc::MessageTooLarge:
      return "MessageTooLarge";
    case Errc::ChannelClosed:
      return "ChannelClosed";
    case Errc::TooManyChannels:
      return "TooManyChannels";
    case Errc::QueueFull:
      return "QueueFull";
    case Errc::MalformedFrame:
      return "MalformedFrame";
    case Errc::Io:
      return "Io";
    case Errc::Tls:
      return "Tls";
    case Errc::Undeliverable:
      return "Undeliverable";
    case Errc::Internal:
      break;
  }
  return "Internal";
}

void throwFrom(napi_env env, const std::exception& e) {
  if (auto* ie = dynamic_cast<const ifmesh::Error*>(&e))
    throwError(env, codeName(ie->code()), ie->what());
  else
    throwError(env, "Internal", e.what());
}

napi_value undefinedValue(napi_env env) {
  napi_value v;
  napi_get_undefined(env, &v);
  return v;
}

napi_value stringValue(napi_env env, const std::string& s) {
  napi_value v;
  napi_create_string_utf8(env, s.data(), s.size(), &v);
  return v;
}

std::optional<std::string> stringArg(napi_env env, napi_value v, const char* what) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t != napi_string) {
    throwError(env, "InvalidArgument", std::string(what) + " must be a string");
    return std::nullopt;
  }
  std::size_t len = 0;
  napi_get_value_string_utf8(env, v, nullptr, 0, &len);
  std::string s(len, '\0');
  napi_get_value_string_utf8(env, v, s.data(), len + 1, &len);
  return s;
}

std::optional<double> numberArg(napi_env env, napi_value v, const char* what) {
  double d = 0;
  if (napi_get_value_double(env, v, &d) != napi_ok) {
    throwError(env, "InvalidArgument", std::string(what) + " must be a number");
    return std::nullopt;
  }
  return d;
}

napi_value property(napi_env env, napi_value object, const char* name) {
  napi_value v = nullptr;
  bool has = false;
  if (napi_has_named_property(env, object, name, &has) != napi_ok || !has) return nullptr;
  napi_get_named_property(env, object, name, &v);
  napi_valuetype t;
  napi_typeof(env, v, &t);
  return t == napi_undefined || t == napi_null ? nullptr : v;
}

// ---- the connection object ----

class Connection {
 public:
  // Creates the connection; its events go through `tsfn` (whose context is this object).
  void open(napi_threadsafe_function tsfn, ifmesh::RtcConfiguration config) {
    sink_ = std::make_shared<EventSink>(tsfn);
    try {
      pc_ = std::make_shared<PeerConnection>(std::move(config));
    } catch (...) {
      sink_->close();
      throw;
    }
    auto sink = sink_;
    pc_->onLocalCandidate([sink](const ifmesh::Candidate& c) {
      sink->emit(Event{Kind::Candidate, 0, c.candidate, c.mid, {}, {}});
    });
    pc_->onStateChange([sink](ifmesh::PeerConnectionState s) {
      sink->emit(Event{Kind::State, 0, ifmesh::toString(s), {}, {}, {}});
    });
    pc_->onDataChannel([sink, keys = nextKey_](std::shared_ptr<DataChannel> channel) {
      Event e{Kind::DataChannel, keys->fetch_add(1), {}, {}, {}, {}};
      hookChannel(*channel, sink, e.key);
      e.channel = std::move(channel);
      sink->emit(std::move(e));
    });
  }
  ~Connection() { close(); }

  void close() {
    if (pc_) pc_->close();
    // The destructor stops the connection's callbacks; the closed sink drops any that ran late.
    channels_.clear();
    pc_.reset();
    if (sink_) sink_->close();
  }

  PeerConnection* pc(napi_env env) {
    if (!pc_) throwError(env, "InvalidState", "the peer connection is closed");
    return pc_.get();
  }
  DataChannel* channel(napi_env env, napi_value keyValue) {
    auto key = numberArg(env, keyValue, "channel");
    if (!key) return nullptr;
    auto it = channels_.find(static_cast<std::uint32_t>(*key));
    if (it == channels_.end() || !pc_) {
      throwError(env, "ChannelClosed", "the channel is closed");
      return nullptr;
    }
    return it->second.get();
  }
  std::uint32_t add(std::shared_ptr<DataChannel> channel) {
    std::uint32_t key = nextKey_->fetch_add(1);
    hookChannel(*channel, sink_, key);
    channels_.emplace(key, std::move(channel));
    return key;
  }

  // Main thread: hands every waiting event to `callback`.
  void drain(napi_env env, napi_value callback) {
    if (!sink_) return;
    napi_value global;
    napi_get_global(env, &global);
    for (auto& e : sink_->take()) {
      napi_value args[4];
      napi_create_int32(env, static_cast<std::int32_t>(e.kind), &args[0]);
      napi_create_uint32(env, e.key, &args[1]);
      args[2] = undefinedValue(env);
      args[3] = undefinedValue(env);
      switch (e.kind) {
        case Kind::Candidate:
          args[2] = stringValue(env, e.text);
          args[3] = stringValue(env, e.mid);
          break;
        case Kind::State:
        case Kind::ChannelError:
          args[2] = stringValue(env, e.text);
          break;
        case Kind::DataChannel:
          if (!pc_) continue;
          args[2] = stringValue(env, e.channel->label());
          args[3] = stringValue(env, e.channel->protocol());
          channels_.emplace(e.key, std::move(e.channel));
          break;
        case Kind::ChannelMessage:
          if (auto* text = std::get_if<std::string>(&e.message)) {
            args[2] = stringValue(env, *text);
          } else {
            auto& bytes = std::get<ifmesh::Binary>(e.message);
            void* data = nullptr;
            napi_create_arraybuffer(env, bytes.size(), &data, &args[2]);
            if (!bytes.empty()) std::memcpy(data, bytes.data(), bytes.size());
          }
          break;
        case Kind::ChannelClose:
          channels_.erase(e.key);
          break;
        default:
          break;
      }
      napi_value result;
      if (napi_call_function(env, global, callback, 4, args, &result) != napi_ok) {
        // A callback that throws: an uncaught exception, as from any event handler.
        bool pending = false;
        napi_is_exception_pending(env, &pending);
        if (pending) {
          napi_value ex;
          napi_get_and_clear_last_exception(env, &ex);
          napi_fatal_exception(env, ex);
        }
      }
    }
  }

 private:
  std::shared_ptr<EventSink> sink_;
  std::shared_ptr<PeerConnection> pc_;
  std::shared_ptr<std::atomic<std::uint32_t>> nextKey_ =
      std::make_shared<std::atomic<std::uint32_t>>(1);
  std::unordered_map<std::uint32_t, std::shared_ptr<DataChannel>> channels_;
};

void callJs(napi_env env, napi_value callback, void* context, void* /*data*/) {
  if (!env || !callback) return;  // the environment is going away
  static_cast<Connection*>(context)->drain(env, callback);
}

// `this`'s Connection and up to N arguments (missing ones undefined).
template <std::size_t N>
Connection* self(napi_env env, napi_callback_info info, napi_value (&args)[N]) {
  std::size_t argc = N;
  napi_value thisArg;
  napi_get_cb_info(env, info, &argc, args, &thisArg, nullptr);
  for (std::size_t i = argc; i < N; ++i) args[i] = undefinedValue(env);
  void* p = nullptr;
  if (napi_unwrap(env, thisArg, &p) != napi_ok || !p) {
    throwError(env, "InvalidState", "not a peer connection");
    return nullptr;
  }
  return static_cast<Connection*>(p);
}

Connection* self(napi_env env, napi_callback_info info) {
  napi_value none[1];
  return self(env, info, none);
}

bool pendingException(napi_env env) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  return pending;
}

ifmesh::RtcConfiguration configFrom(napi_env env, napi_value cfg) {
  ifmesh::RtcConfiguration c;
  napi_valuetype t;
  napi_typeof(env, cfg, &t);
  if (t != napi_object) return c;
  auto list = [&](napi_value v, auto each) {
    bool isArray = false;
    napi_is_array(env, v, &isArray);
    if (!isArray) throw ifmesh::Error(ifmesh::Errc::InvalidArgument, "expected an array");
    std::uint32_t n = 0;
    napi_get_array_length(env, v, &n);
    for (std::uint32_t i = 0; i < n; ++i) {
      napi_value e;
      napi_get_element(env, v, i, &e);
      each(e);
    }
  };
  auto text = [&](napi_value v, const char* what) {
    auto s = stringArg(env, v, what);
    if (!s)
      throw ifmesh::Error(ifmesh::Errc::InvalidArgument, std::string(what) + " must be a string");
    return *s;
  };
  if (auto v = property(env, cfg, "localAddresses"))
    list(v, [&](napi_value e) { c.localAddresses.push_back(text(e, "localAddresses[i]")); });
  if (auto v = property(env, cfg, "iceServers"))
    list(v, [&](napi_value e) {
      ifmesh::IceServer server;
      auto url = property(env, e, "url");
      if (!url) throw ifmesh::Error(ifmesh::Errc::InvalidArgument, "an ICE server needs a url");
      server.url = text(url, "url");
      if (auto u = property(env, e, "username")) server.username = text(u, "username");
      if (auto p = property(env, e, "credential")) server.credential = text(p, "credential");
      c.iceServers.push_back(std::move(server));
    });
  if (auto v = property(env, cfg, "forceRelay")) napi_get_value_bool(env, v, &c.forceRelay);
  if (auto v = property(env, cfg, "maxMessageSize")) {
    double d = 0;
    if (napi_get_value_double(env, v, &d) == napi_ok && d >= 1024 && d <= 16 * 1024 * 1024)
      c.maxMessageSize = static_cast<std::size_t>(d);
  }
  if (auto v = property(env, cfg, "maxChannels")) {
    double d = 0;
    if (napi_get_value_double(env, v, &d) == napi_ok && d >= 1 && d <= 65535)
      c.maxChannels = static_cast<std::uint16_t>(d);
  }
  return c;
}

void finalize(napi_env /*env*/, void* data, void* /*hint*/) {
  delete static_cast<Connection*>(data);
}

// new PeerConnection(config, callback(kind, key, a, b))
napi_value construct(napi_env env, napi_callback_info info) {
  std::size_t argc = 2;
  napi_value args[2], thisArg;
  napi_get_cb_info(env, info, &argc, args, &thisArg, nullptr);
  napi_valuetype t = napi_undefined;
  if (argc == 2) napi_typeof(env, args[1], &t);
  if (t != napi_function) {
    throwError(env, "InvalidArgument", "new PeerConnection(config, callback)");
    return nullptr;
  }
  auto conn = std::make_unique<Connection>();
  napi_threadsafe_function tsfn;
  if (napi_create_threadsafe_function(env, args[1], nullptr, stringValue(env, "ifmesh-rtc"), 0, 1,
                                      nullptr, nullptr, conn.get(), callJs, &tsfn) != napi_ok) {
    throwError(env, "Internal", "cannot create a thread-safe function");
    return nullptr;
  }
  try {
    auto config = configFrom(env, args[0]);
    if (pendingException(env)) {
      napi_release_threadsafe_function(tsfn, napi_tsfn_release);
      return nullptr;
    }
    conn->open(tsfn, std::move(config));
  } catch (const std::exception& e) {
    napi_release_threadsafe_function(tsfn, napi_tsfn_release);
    throwFrom(env, e);
    return nullptr;
  }
  if (napi_wrap(env, thisArg, conn.get(), finalize, nullptr, nullptr) != napi_ok) {
    throwError(env, "Internal", "cannot wrap the connection");
    return nullptr;
  }
  conn.release();
  return thisArg;
}

// Runs `fn` and turns a C++ exception into a JavaScript one.
template <typename F>
napi_value guarded(napi_env env, F&& fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    throwFrom(env, e);
    return nullptr;
  }
}

napi_value createOffer(napi_env env, napi_callback_info info) {
  auto* c = self(env, info);
  auto* pc = c ? c->pc(env) : nullptr;
  if (!pc) return nullptr;
  return guarded(env, [&] { return stringValue(env, pc->createOffer().sdp); });
}

napi_value createAnswer(napi_env env, napi_callback_info info) {
  auto* c = self(env, info);
  auto* pc = c ? c->pc(env) : nullptr;
  if (!pc) return nullptr;
  return guarded(env, [&] { return stringValue(env, pc->createAnswer().sdp); });
}

// setRemoteDescription(type: 'offer' | 'answer', sdp)
napi_value setRemoteDescription(napi_env env, napi_callback_info info) {
  napi_value args[2];
  auto* c = self(env, info, args);
  auto* pc = c ? c->pc(env) : nullptr;
  if (!pc) return nullptr;
  auto type = stringArg(env, args[0], "type");
  auto sdp = type ? stringArg(env, args[1], "sdp") : std::nullopt;
  if (!sdp) return nullptr;
  if (*type != "offer" && *type != "answer") {
    throwError(env, "InvalidArgument", "type is offer or answer");
    return nullptr;
  }
  return guarded(env, [&] {
    pc->setRemoteDescription(ifmesh::Description{
        *type == "offer" ? ifmesh::Description::Type::Offer : ifmesh::Description::Type::Answer,
        *sdp});
    return undefinedValue(env);
  });
}

// addRemoteCandidate(candidate, mid)
napi_value addRemoteCandidate(napi_env env, napi_callback_info info) {
  napi_value args[2];
  auto* c = self(env, info, args);
  auto* pc = c ? c->pc(env) : nullptr;
  if (!pc) return nullptr;
  auto candidate = stringArg(env, args[0], "candidate");
  auto mid = candidate ? stringArg(env, args[1], "mid") : std::nullopt;
  if (!mid) return nullptr;
  return guarded(env, [&] {
    pc->addRemoteCandidate(ifmesh::Candidate{*candidate, *mid});
    return undefinedValue(env);
  });
}

// createDataChannel(label, {negotiatedId?, ordered?, maxRetransmits?, maxPacketLifeTime?,
// protocol?}) -> key
napi_value createDataChannel(napi_env env, napi_callback_info info) {
  napi_value args[2];
  auto* c = self(env, info, args);
  auto* pc = c ? c->pc(env) : nullptr;
  if (!pc) return nullptr;
  auto label = stringArg(env, args[0], "label");
  if (!label) return nullptr;
  ifmesh::DataChannelInit init;
  napi_valuetype t;
  napi_typeof(env, args[1], &t);
  if (t == napi_object) {
    auto u16 = [&](const char* name) -> std::optional<std::uint16_t> {
      auto v = property(env, args[1], name);
      double d = 0;
      if (!v || napi_get_value_double(env, v, &d) != napi_ok || d < 0 || d > 65535)
        return std::nullopt;
      return static_cast<std::uint16_t>(d);
    };
    init.negotiatedId = u16("negotiatedId");
    init.maxRetransmits = u16("maxRetransmits");
    init.maxPacketLifeTime = u16("maxPacketLifeTime");
    if (auto v = property(env, args[1], "ordered")) napi_get_value_bool(env, v, &init.ordered);
    if (auto v = property(env, args[1], "protocol")) {
      auto p = stringArg(env, v, "protocol");
      if (!p) return nullptr;
      init.protocol = *p;
    }
  }
  return guarded(env, [&] {
    napi_value key;
    napi_create_uint32(env, c->add(pc->createDataChannel(*label, init)), &key);
    return key;
  });
}

// send(key, string | ArrayBuffer | ArrayBufferView)
napi_value send(napi_env env, napi_callback_info info) {
  napi_value args[2];
  auto* c = self(env, info, args);
  auto* ch = c ? c->channel(env, args[0]) : nullptr;
  if (!ch) return nullptr;
  napi_valuetype t;
  napi_typeof(env, args[1], &t);
  return guarded(env, [&]() -> napi_value {
    if (t == napi_string) {
      auto text = stringArg(env, args[1], "data");
      if (!text) return nullptr;
      ch->send(std::string_view(*text));
      return undefinedValue(env);
    }
    void* data = nullptr;
    std::size_t length = 0;
    bool is = false;
    if (napi_is_arraybuffer(env, args[1], &is) == napi_ok && is) {
      napi_get_arraybuffer_info(env, args[1], &data, &length);
    } else if (napi_is_typedarray(env, args[1], &is) == napi_ok && is) {
      napi_typedarray_type type;
      std::size_t count = 0, offset = 0;
      napi_value buffer;
      napi_get_typedarray_info(env, args[1], &type, &count, &data, &buffer, &offset);
      std::size_t unit =
          type == napi_uint16_array || type == napi_int16_array                                 ? 2
          : type == napi_uint32_array || type == napi_int32_array || type == napi_float32_array ? 4
          : type == napi_float64_array || type == napi_bigint64_array ||
                  type == napi_biguint64_array
              ? 8
              : 1;
      length = count * unit;
    } else if (napi_is_dataview(env, args[1], &is) == napi_ok && is) {
      napi_value buffer;
      std::size_t offset = 0;
      napi_get_dataview_info(env, args[1], &length, &data, &buffer, &offset);
    } else {
      throwError(env, "InvalidArgument", "data must be a string, ArrayBuffer or view");
      return nullptr;
    }
    ch->send(std::span<const std::byte>(static_cast<const std::byte*>(data), length));
    return undefinedValue(env);
  });
}

napi_value bufferedAmount(napi_env env, napi_callback_info info) {
  napi_value args[1];
  auto* c = self(env, info, args);
  auto* ch = c ? c->channel(env, args[0]) : nullptr;
  if (!ch) return nullptr;
  napi_value v;
  napi_create_double(env, static_cast<double>(ch->bufferedAmount()), &v);
  return v;
}

napi_value setBufferedAmountLowThreshold(napi_env env, napi_callback_info info) {
  napi_value args[2];
  auto* c = self(env, info, args);
  auto* ch = c ? c->channel(env, args[0]) : nullptr;
  if (!ch) return nullptr;
  auto bytes = numberArg(env, args[1], "threshold");
  if (!bytes) return nullptr;
  ch->setBufferedAmountLowThreshold(*bytes > 0 ? static_cast<std::size_t>(*bytes) : 0);
  return undefinedValue(env);
}

napi_value maxMessageSize(napi_env env, napi_callback_info info) {
  napi_value args[1];
  auto* c = self(env, info, args);
  auto* ch = c ? c->channel(env, args[0]) : nullptr;
  if (!ch) return nullptr;
  napi_value v;
  napi_create_double(env, static_cast<double>(ch->maxMessageSize()), &v);
  return v;
}

napi_value closeChannel(napi_env env, napi_callback_info info) {
  napi_value args[1];
  auto* c = self(env, info, args);
  if (!c) return nullptr;
  if (auto* ch = c->channel(env, args[0]))
    ch->close();
  else
    napi_get_and_clear_last_exception(env, &args[0]);  // closing a closed channel is fine
  return undefinedValue(env);
}

// stats() -> {state, localType, remoteType, rttMs}
napi_value stats(napi_env env, napi_callback_info info) {
  auto* c = self(env, info);
  auto* pc = c ? c->pc(env) : nullptr;
  if (!pc) return nullptr;
  auto s = pc->stats();
  napi_value out;
  napi_create_object(env, &out);
  napi_set_named_property(env, out, "state", stringValue(env, ifmesh::toString(s.state)));
  if (s.selectedPair) {
    napi_set_named_property(env, out, "localType", stringValue(env, s.selectedPair->localType));
    napi_set_named_property(env, out, "remoteType", stringValue(env, s.selectedPair->remoteType));
  }
  if (s.rttMs) {
    napi_value rtt;
    napi_create_double(env, *s.rttMs, &rtt);
    napi_set_named_property(env, out, "rttMs", rtt);
  }
  return out;
}

napi_value close(napi_env env, napi_callback_info info) {
  if (auto* c = self(env, info)) c->close();
  return undefinedValue(env);
}

}  // namespace

NAPI_MODULE_INIT() {
  napi_property_descriptor methods[] = {
      {"createOffer", nullptr, createOffer, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"createAnswer", nullptr, createAnswer, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setRemoteDescription", nullptr, setRemoteDescription, nullptr, nullptr, nullptr,
       napi_default, nullptr},
      {"addRemoteCandidate", nullptr, addRemoteCandidate, nullptr, nullptr, nullptr, napi_default,
       nullptr},
      {"createDataChannel", nullptr, createDataChannel, nullptr, nullptr, nullptr, napi_default,
       nullptr},
      {"send", nullptr, send, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"bufferedAmount", nullptr, bufferedAmount, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setBufferedAmountLowThreshold", nullptr, setBufferedAmountLowThreshold, nullptr, nullptr,
       nullptr, napi_default, nullptr},
      {"maxMessageSize", nullptr, maxMessageSize, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"closeChannel", nullptr, closeChannel, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"stats", nullptr, stats, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"close", nullptr, close, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_value cls;
  napi_define_class(env, "PeerConnection", NAPI_AUTO_LENGTH, construct, nullptr,
                    sizeof methods / sizeof methods[0], methods, &cls);
  napi_set_named_property(env, exports, "PeerConnection", cls);
  return exports;
}
