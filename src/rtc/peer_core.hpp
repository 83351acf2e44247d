#pragma once
// The state behind one public PeerConnection: offer/answer, and the ICE -> DTLS -> SCTP -> DCEP
// chain. Public calls are marshalled onto the I/O loop (IoLoop::invoke); transports call back on
// the loop. Transports are never destroyed inside their own callbacks: teardown moves them into a
// posted task.
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ifmesh/rtc/configuration.hpp"
#include "ifmesh/rtc/types.hpp"
#include "lazy_deque.hpp"
#include "rtc/callback_slot.hpp"
#include "rtc/channel_core.hpp"
#include "rtc/dtls_transport.hpp"
#include "rtc/ice_transport.hpp"
#include "rtc/runtime.hpp"
#include "rtc/sctp_transport.hpp"
#include "rtc/sdp.hpp"

namespace ifmesh {
class DataChannel;
}

namespace ifmesh::detail {

class PeerCore : public std::enable_shared_from_this<PeerCore> {
 public:
  explicit PeerCore(RtcConfiguration config);
  ~PeerCore();

  // Loop thread (the public wrapper invokes these there).
  Description createOffer();
  Description createAnswer();
  void setRemoteDescription(const Description& description);
  void addRemoteCandidate(const Candidate& candidate);
  std::shared_ptr<ChannelCore> createDataChannel(const std::string& label,
                                                 const DataChannelInit& init);
  void close();
  PeerConnectionStats stats() const;
  std::optional<Description> localDescription() const;

  rtc::IoLoop& loop() { return loop_; }
  std::string localFingerprint() const;

  std::atomic<PeerConnectionState> state{PeerConnectionState::New};
  std::atomic<IceState> iceState{IceState::New};
  std::atomic<DtlsState> dtlsState{DtlsState::New};
  std::atomic<GatheringState> gatheringState{GatheringState::New};

  rtc::CallbackSlot<const Candidate&> onLocalCandidate;
  rtc::CallbackSlot<PeerConnectionState> onStateChange;
  rtc::CallbackSlot<IceState> onIceStateChange;
  rtc::CallbackSlot<DtlsState> onDtlsStateChange;
  rtc::CallbackSlot<GatheringState> onGatheringStateChange;
  rtc::CallbackSlot<std::shared_ptr<DataChannel>> onDataChannel;
  // Loop thread: hands over channels the peer opened before onDataChannel was set.
  void deliverPendingChannels();
  void clearCallbacks();

 private:
  void ensureIce(bool controlling);
  void startGathering();
  rtc::sdp::SessionDescription buildLocal(Description::Type type);
  void applyRemoteCandidate(const std::string& candidate);
  void createDtls();
  void handleIceState(IceState state);
  void handleIceData(const std::uint8_t* data, std::size_t length);
  void handleDtlsConnected();
  void handleSctpConnected();
  void startConsentWatchdog();
  void handleSctpMessage(std::uint16_t stream, std::uint32_t ppid, std::vector<std::byte>&& data);
  void handleDcep(std::uint16_t stream, const std::vector<std::byte>& data);
  void openChannel(const std::shared_ptr<ChannelCore>& channel);
  std::optional<std::uint16_t> allocateStreamId();
  std::uint32_t streamLimit() const;
  std::string tooManyChannels() const;
  void setState(PeerConnectionState next);
  void setDtlsState(DtlsState next);
  void fail(const std::string& reason);
  void closeChannels();
  void teardownTransports();
  std::size_t sendLimit() const;

  RtcConfiguration config_;
  rtc::Runtime& runtime_;
  // Our SCTP port, announced in every description (a=sctp-port) and bound when SCTP starts.
  std::uint16_t localSctpPort_ = runtime_.nextSctpPort();
  rtc::IoLoop& loop_;  // this connection's I/O thread, for its whole life
  std::unique_ptr<rtc::IceTransport> ice_;
  std::unique_ptr<rtc::DtlsTransport> dtls_;
  std::shared_ptr<rtc::SctpTransport> sctp_;

  std::optional<rtc::sdp::SessionDescription> local_;
  std::optional<rtc::sdp::SessionDescription> remote_;
  std::vector<std::string> pendingRemoteCandidates_;     // arrived before the remote description
  LazyDeque<std::vector<std::uint8_t>> earlyDatagrams_;  // arrived before DTLS existed
  bool dtlsClient_ = false;
  bool closed_ = false;
  std::uint64_t sessionId_ = 0;
  std::uint64_t sessionVersion_ = 0;

  std::map<std::uint16_t, std::shared_ptr<ChannelCore>> channels_;
  std::vector<std::shared_ptr<ChannelCore>> unopened_;  // created before SCTP was up
  std::vector<std::shared_ptr<DataChannel>> undeliveredChannels_;

  rtc::IoLoop::Timer connectDeadline_;
  rtc::IoLoop::Timer consentWatchdog_;
  std::uint64_t recordsReceived_ = 0;   // DTLS records that passed authentication (loop thread)
  std::uint64_t lastHeardRecords_ = 0;  // recordsReceived_ when the watchdog last saw it move
  std::chrono::steady_clock::time_point lastHeard_;
  std::string failReason_;
  std::string disconnectReason_;  // the first reason the connection went to Disconnected
  std::atomic<std::uint64_t> bytesSent_{0};
  std::atomic<std::uint64_t> bytesReceived_{0};
};

}  // namespace ifmesh::detail
