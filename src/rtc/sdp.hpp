#pragma once
// SDP for a data-only WebRTC session (RFC 8866, RFC 8841 for SCTP, RFC 8839 for ICE): parsing of
// what browsers and libwebrtc send, and generation of what they accept.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ifmesh::rtc::sdp {

struct SessionDescription {
  enum class Type { Offer, Answer } type = Type::Offer;
  enum class Setup { ActPass, Active, Passive } setup = Setup::ActPass;
  std::string iceUfrag, icePwd;  // session or media level
  bool iceLite = false;
  bool trickle = true;
  std::string fingerprintAlgorithm = "sha-256";
  std::vector<std::uint8_t> fingerprint;
  std::string mid = "0";  // of the data m-section
  std::uint16_t sctpPort = 5000;
  std::optional<std::uint64_t> maxMessageSize;  // absent when the SDP has none; 0 = unlimited
  // a=x-ifmesh-mux:<tag>: this end shares one UDP socket among its connections and takes DTLS
  // behind this tag (src/ice/datagram_demux.hpp); absent for any other end. 1..4294967295.
  std::optional<std::uint32_t> muxTag;
  std::vector<std::string> candidates;  // "candidate:..." (no "a=")
  bool endOfCandidates = false;
  std::uint64_t sessionId = 0;
  std::uint64_t sessionVersion = 0;
  // Non-data m-sections of an offer (audio, video, ...), in order, so an answer rejects them.
  struct OtherMedia {
    std::string mline;
    std::string mid;
  };
  std::vector<OtherMedia> otherMedia;
  std::size_t dataIndex = 0;  // position of the data m-section among all m-sections
};

// Throws ifmesh::Error(MalformedSdp, reason).
SessionDescription parse(std::string_view text, SessionDescription::Type type);
std::string serialize(const SessionDescription& description);

std::string formatFingerprint(std::span<const std::uint8_t> bytes);  // "AB:CD:..."
std::vector<std::uint8_t> parseFingerprint(std::string_view text);   // throws MalformedSdp

}  // namespace ifmesh::rtc::sdp
