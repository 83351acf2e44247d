#pragma once
// ICE (RFC 8445) with trickle, on libnice: one NiceAgent, and its own UDP sockets, per
// connection, the agents in cells of the I/O loop (context_driver.hpp). It gathers server-reflexive
// and relayed candidates (STUN and TURN servers) too. Loop thread only.
#include <nice/agent.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "ifmesh/rtc/configuration.hpp"
#include "ifmesh/rtc/types.hpp"
#include "rtc/ice_transport.hpp"
#include "rtc/io_loop.hpp"

namespace ifmesh::rtc {

class NiceIceTransport final : public IceTransport {
 public:
  NiceIceTransport(IoLoop& loop, const RtcConfiguration& config, bool controlling,
                   Callbacks callbacks);
  ~NiceIceTransport() override;

  std::pair<std::string, std::string> localCredentials() const override;
  // With no localAddresses configured and no interface but loopback (a fresh network namespace,
  // a container without network), it gathers on 127.0.0.1, as libwebrtc does.
  bool gather() override;
  void setRemoteCredentials(const std::string& ufrag, const std::string& pwd) override;
  bool addRemoteCandidate(const std::string& candidate) override;
  void remoteGatheringDone() override;
  bool send(const void* data, std::size_t length) override;
  void shutdown() override;

  IceState state() const override { return state_; }
  std::optional<CandidatePairStats> selectedPair() const override { return selectedPair_; }

 private:
  static void onRecv(NiceAgent*, guint, guint, guint len, gchar* buf, gpointer self);
  static void onCandidate(NiceAgent*, NiceCandidate* candidate, gpointer self);
  static void onGatheringDoneSignal(NiceAgent*, guint, gpointer self);
  static void onComponentState(NiceAgent*, guint, guint, guint state, gpointer self);
  static void onSelectedPair(NiceAgent*, guint, guint, NiceCandidate* local, NiceCandidate* remote,
                             gpointer self);
  void setState(IceState state);
  std::string candidateLine(NiceCandidate* candidate) const;
  bool sendNow(const void* data, std::size_t length);
  void sendHeld();

  IoLoop& loop_;
  // The context our libnice agent runs in. Every call into the agent outside that context's
  // dispatch may add or remove its sources, so it touches the cell (see ContextDriver).
  ContextDriver::Lease cell_;
  Callbacks callbacks_;
  NiceAgent* agent_ = nullptr;
  guint streamId_ = 0;
  bool gathering_ = false;
  bool anyInterface_ = false;  // no localAddresses configured
  bool shutdown_ = false;
  // Sending through a TURN relay may start permission and binding timers; a direct UDP send
  // changes no source (and sends are the one call frequent enough for the touch to cost).
  bool sendMayChangeSources_ = true;
  int udpReceiveBufferBytes_ = 0;
  IceState state_ = IceState::New;
  std::optional<CandidatePairStats> selectedPair_;
};

}  // namespace ifmesh::rtc
