#pragma once
// ICE by our own agent (src/ice/ice_agent.hpp) on the I/O thread's shared UDP sockets
// (udp_mux_hub.hpp): host candidates, one per local address, all of the thread's connections on
// the same ports, and server-reflexive ones from STUN servers. No GLib and no descriptor of its
// own: a connection costs its agent's state and a timer.
//
// * Credentials: the hub draws the local ufrag (unique on the thread: it routes the peer's
//   checks) and the mux tag; the password is 128 random bits.
// * The agent starts once the peer's credentials are known (its checks carry our ufrag and its
//   own). Checks from the peer that arrive before that (the answer is still on its way) wait, a
//   few of them, and are answered then.
// * Gathering: the host candidates at once; then, with STUN servers, what each server sees of
//   each socket of its address family (the hub asks once for all of the thread's connections:
//   udp_mux_reflexive.hpp). A server-reflexive address equal to a host candidate's (no NAT on
//   the way) is redundant (RFC 8445 5.1.3) and not signalled. Gathering ends when every server
//   answered or gave up.
// * DTLS: toward a peer that announced a=x-ifmesh-mux, behind its tag; toward any other, plain.
//   What arrives is the hub's to place: behind our tag, or plain from an address ICE proved
//   for this connection (a valid pair's remote).
// * Consent (RFC 7675) is the agent's: lost consent fails the transport, as does ICE failure.
// Loop thread only, callbacks included (ice_transport.hpp).
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ice/ice_agent.hpp"
#include "rtc/ice_transport.hpp"
#include "rtc/udp_mux_hub.hpp"

namespace ifmesh::rtc {

class MuxIceTransport final : public IceTransport, private UdpMuxHub::Endpoint {
 public:
  // Whether it can serve `config`: no TURN server, no relay-only policy, no receive-buffer size
  // or port range (each socket is the whole thread's).
  static bool serves(const RtcConfiguration& config);

  MuxIceTransport(IoLoop& loop, const RtcConfiguration& config, bool controlling,
                  Callbacks callbacks);
  ~MuxIceTransport() override;

  std::pair<std::string, std::string> localCredentials() const override { return {ufrag_, pwd_}; }
  std::optional<std::uint32_t> localMuxTag() const override;
  bool gather() override;
  void setRemoteCredentials(const std::string& ufrag, const std::string& pwd) override;
  void setRemoteMuxTag(std::optional<std::uint32_t> tag) override;
  bool addRemoteCandidate(const std::string& candidate) override;
  void remoteGatheringDone() override;
  bool send(const void* data, std::size_t length) override;
  void shutdown() override;

  IceState state() const override { return state_; }
  std::string failureReason() const override { return failureReason_; }
  std::optional<CandidatePairStats> selectedPair() const override { return selectedStats_; }

 private:
  // Early checks kept until the agent starts, and how many.
  static constexpr std::size_t kMaxEarlyChecks = 16;
  struct EarlyCheck {
    ice::StunAddress localBase, source;
    std::vector<std::uint8_t> datagram;
  };

  void onStun(const ice::StunAddress& localBase, const ice::StunAddress& source,
              std::span<const std::uint8_t> datagram, const ice::ParsedStun& parsed) override;
  void onDtls(std::span<const std::uint8_t> datagram) override;

  void startAgent();
  void gatherReflexive();
  void onReflexive(const ice::Candidate& host, std::optional<ice::StunAddress> mapped);
  // Gathering ended: the agent may now conclude failure, and the PeerConnection hears of it.
  void finishGathering();
  // Sends what the agent produced, handles its events, and sets the timer for its next deadline.
  void drive();
  void tick();
  void setState(IceState state);
  void allowValidRemotes();
  std::string localCandidateLine(const ice::Candidate& candidate) const;

  IoLoop& loop_;
  UdpMuxHub& hub_;
  RtcConfiguration config_;
  bool controlling_;
  Callbacks callbacks_;
  ice::ConnectionId id_ = 0;
  std::string ufrag_, pwd_;
  std::uint32_t tag_ = 0;
  std::optional<std::string> remoteUfrag_, remotePwd_;
  std::optional<std::uint32_t> remoteTag_;
  std::vector<ice::Candidate> locals_;
  std::vector<ice::StunAddress> stunServers_;   // resolved at construction
  std::size_t reflexivePending_ = 0;            // queries whose answer gathering waits for
  std::vector<ice::Candidate> pendingRemotes_;  // before the agent starts
  bool remoteDone_ = false;
  bool localDone_ = false;
  std::vector<EarlyCheck> early_;
  std::optional<ice::IceAgent> agent_;
  std::optional<ice::IceSelectedPair> selected_;
  UdpMuxSocket* selectedSocket_ = nullptr;
  std::optional<CandidatePairStats> selectedStats_;
  IoLoop::Timer timer_;
  std::optional<ice::Clock::time_point> timerDue_;
  bool tickPosted_ = false;
  bool shutdown_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  IceState state_ = IceState::New;
  std::string failureReason_;
};

}  // namespace ifmesh::rtc
