#pragma once
// The addon's PeerConnection object: the C++ connection, its channels by key, and the event
// sink its I/O thread fills. Main thread only, apart from the sink.
#include <node_api.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <unordered_map>

#include "event_sink.hpp"
#include "ifmesh/rtc/peer_connection.hpp"
#include "napi_values.hpp"

namespace ifmesh::node {

class Connection {
 public:
  ~Connection() { close(); }

  // Creates the connection; its events go through `tsfn` (whose context is this object).
  // Throws ifmesh::Error when the configuration is refused.
  void open(napi_threadsafe_function tsfn, RtcConfiguration config);
  // Closes the connection and its channels; no event reaches JavaScript afterwards. Idempotent.
  void close();

  // The connection, or nullptr with an InvalidState exception pending once closed.
  PeerConnection* pc(napi_env env);
  // The channel of that key, or nullptr with a ChannelClosed exception pending.
  DataChannel* channel(napi_env env, napi_value keyValue);
  // Takes a channel this side created; returns its key.
  std::uint32_t add(std::shared_ptr<DataChannel> channel);
  // Main thread: hands every waiting event to `callback`.
  void drain(napi_env env, napi_value callback);

 private:
  std::shared_ptr<EventSink> sink_;
  std::shared_ptr<PeerConnection> pc_;
  std::shared_ptr<std::atomic<std::uint32_t>> nextKey_ =
      std::make_shared<std::atomic<std::uint32_t>>(1);
  std::unordered_map<std::uint32_t, std::shared_ptr<DataChannel>> channels_;
};

// The sink's thread-safe function: drains the connection's events into its callback.
void callJs(napi_env env, napi_value callback, void* context, void* data);

}  // namespace ifmesh::node
