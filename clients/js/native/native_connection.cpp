#include "native_connection.hpp"

#include <cstring>
#include <string>
#include <variant>

namespace ifmesh::node {

void Connection::open(napi_threadsafe_function tsfn, RtcConfiguration config) {
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

void Connection::close() {
  if (pc_) pc_->close();
  // The destructor stops the connection's callbacks; the closed sink drops any that ran late.
  channels_.clear();
  pc_.reset();
  if (sink_) sink_->close();
}

PeerConnection* Connection::pc(napi_env env) {
  if (!pc_) throwError(env, "InvalidState", "the peer connection is closed");
  return pc_.get();
}

DataChannel* Connection::channel(napi_env env, napi_value keyValue) {
  auto key = numberArg(env, keyValue, "channel");
  if (!key) return nullptr;
  auto it = channels_.find(static_cast<std::uint32_t>(*key));
  if (it == channels_.end() || !pc_) {
    throwError(env, "ChannelClosed", "the channel is closed");
    return nullptr;
  }
  return it->second.get();
}

std::uint32_t Connection::add(std::shared_ptr<DataChannel> channel) {
  std::uint32_t key = nextKey_->fetch_add(1);
  hookChannel(*channel, sink_, key);
  channels_.emplace(key, std::move(channel));
  return key;
}

void Connection::drain(napi_env env, napi_value callback) {
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

void callJs(napi_env env, napi_value callback, void* context, void* /*data*/) {
  if (!env || !callback) return;  // the environment is going away
  static_cast<Connection*>(context)->drain(env, callback);
}

// `this`'s Connection and up to N arguments (missing ones undefined).

}  // namespace ifmesh::node
