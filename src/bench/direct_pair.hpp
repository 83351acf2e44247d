#pragma once
// Two PeerConnections in this process, their candidates and descriptions handed over directly (no
// signaling server, so the figures measure the stack alone), with one channel open end to end.
#include <chrono>
#include <memory>

#include "ifmesh/rtc/peer_connection.hpp"

namespace ifmesh::bench {

class DirectPair {
 public:
  // Connects and waits until the channel is open on both sides. Throws std::runtime_error on
  // failure or timeout.
  DirectPair(const RtcConfiguration& config, const std::string& label,
             std::chrono::milliseconds timeout = std::chrono::seconds(15));
  ~DirectPair();
  DirectPair(const DirectPair&) = delete;
  DirectPair& operator=(const DirectPair&) = delete;

  PeerConnection& offerer() { return *offerer_; }
  PeerConnection& answerer() { return *answerer_; }
  DataChannel& local() { return *local_; }    // created by the offerer
  DataChannel& remote() { return *remote_; }  // announced to the answerer

 private:
  std::unique_ptr<PeerConnection> offerer_;
  std::unique_ptr<PeerConnection> answerer_;
  std::shared_ptr<DataChannel> local_;
  std::shared_ptr<DataChannel> remote_;
};

}  // namespace ifmesh::bench
