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

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "ifmesh/error.hpp"
#include "ifmesh/rtc/peer_connection.hpp"
#include "napi_values.hpp"
#include "native_connection.hpp"

namespace {

using namespace ifmesh::node;
using ifmesh::DataChannel;
using ifmesh::PeerConnection;

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

// A method on the connection: fn(connection, args) with N arguments, C++ exceptions turned into
// JavaScript ones.
template <std::size_t N, typename F>
napi_value onConnection(napi_env env, napi_callback_info info, F&& fn) {
  napi_value args[N];
  auto* c = self(env, info, args);
  auto* pc = c ? c->pc(env) : nullptr;
  if (!pc) return nullptr;
  return guarded(env, [&] { return fn(*pc, args); });
}

napi_value createOffer(napi_env env, napi_callback_info info) {
  return onConnection<1>(env, info, [&](PeerConnection& pc, napi_value*) {
    return stringValue(env, pc.createOffer().sdp);
  });
}

napi_value createAnswer(napi_env env, napi_callback_info info) {
  return onConnection<1>(env, info, [&](PeerConnection& pc, napi_value*) {
    return stringValue(env, pc.createAnswer().sdp);
  });
}

// setRemoteDescription(type: 'offer' | 'answer', sdp)
napi_value setRemoteDescription(napi_env env, napi_callback_info info) {
  return onConnection<2>(env, info, [&](PeerConnection& pc, napi_value* args) -> napi_value {
    auto type = stringArg(env, args[0], "type");
    auto sdp = type ? stringArg(env, args[1], "sdp") : std::nullopt;
    if (!sdp) return nullptr;
    if (*type != "offer" && *type != "answer") {
      throwError(env, "InvalidArgument", "type is offer or answer");
      return nullptr;
    }
    pc.setRemoteDescription(ifmesh::Description{
        *type == "offer" ? ifmesh::Description::Type::Offer : ifmesh::Description::Type::Answer,
        *sdp});
    return undefinedValue(env);
  });
}

// addRemoteCandidate(candidate, mid)
napi_value addRemoteCandidate(napi_env env, napi_callback_info info) {
  return onConnection<2>(env, info, [&](PeerConnection& pc, napi_value* args) -> napi_value {
    auto candidate = stringArg(env, args[0], "candidate");
    auto mid = candidate ? stringArg(env, args[1], "mid") : std::nullopt;
    if (!mid) return nullptr;
    pc.addRemoteCandidate(ifmesh::Candidate{*candidate, *mid});
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

// A method on the channel whose key is the first argument: fn(channel, args) with N arguments.
template <std::size_t N, typename F>
napi_value onChannel(napi_env env, napi_callback_info info, F&& fn) {
  napi_value args[N];
  auto* c = self(env, info, args);
  auto* ch = c ? c->channel(env, args[0]) : nullptr;
  if (!ch) return nullptr;
  return guarded(env, [&] { return fn(*ch, args); });
}

std::size_t elementBytes(napi_typedarray_type type) {
  switch (type) {
    case napi_int16_array:
    case napi_uint16_array:
      return 2;
    case napi_int32_array:
    case napi_uint32_array:
    case napi_float32_array:
      return 4;
    case napi_float64_array:
    case napi_bigint64_array:
    case napi_biguint64_array:
      return 8;
    default:
      return 1;
  }
}

// send(key, string | ArrayBuffer | ArrayBufferView)
napi_value send(napi_env env, napi_callback_info info) {
  return onChannel<2>(env, info, [&](DataChannel& ch, napi_value* args) -> napi_value {
    napi_valuetype t;
    napi_typeof(env, args[1], &t);
    if (t == napi_string) {
      auto text = stringArg(env, args[1], "data");
      if (!text) return nullptr;
      ch.send(std::string_view(*text));
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
      length = count * elementBytes(type);
    } else if (napi_is_dataview(env, args[1], &is) == napi_ok && is) {
      napi_value buffer;
      std::size_t offset = 0;
      napi_get_dataview_info(env, args[1], &length, &data, &buffer, &offset);
    } else {
      throwError(env, "InvalidArgument", "data must be a string, ArrayBuffer or view");
      return nullptr;
    }
    ch.send(std::span<const std::byte>(static_cast<const std::byte*>(data), length));
    return undefinedValue(env);
  });
}

napi_value bufferedAmount(napi_env env, napi_callback_info info) {
  return onChannel<1>(env, info, [&](DataChannel& ch, napi_value*) {
    return number(env, static_cast<double>(ch.bufferedAmount()));
  });
}

napi_value setBufferedAmountLowThreshold(napi_env env, napi_callback_info info) {
  return onChannel<2>(env, info, [&](DataChannel& ch, napi_value* args) -> napi_value {
    auto bytes = numberArg(env, args[1], "threshold");
    if (!bytes) return nullptr;
    ch.setBufferedAmountLowThreshold(*bytes > 0 ? static_cast<std::size_t>(*bytes) : 0);
    return undefinedValue(env);
  });
}

napi_value maxMessageSize(napi_env env, napi_callback_info info) {
  return onChannel<1>(env, info, [&](DataChannel& ch, napi_value*) {
    return number(env, static_cast<double>(ch.maxMessageSize()));
  });
}

// Closing a channel that is already closed does nothing.
napi_value closeChannel(napi_env env, napi_callback_info info) {
  napi_value args[1];
  auto* c = self(env, info, args);
  if (!c) return nullptr;
  if (auto* ch = c->channel(env, args[0])) {
    ch->close();
  } else {
    napi_value ignored;
    napi_get_and_clear_last_exception(env, &ignored);
  }
  return undefinedValue(env);
}

// stats() -> {state, localType, remoteType, rttMs}
napi_value stats(napi_env env, napi_callback_info info) {
  return onConnection<1>(env, info, [&](PeerConnection& pc, napi_value*) {
    auto s = pc.stats();
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
  });
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
