#include "rtc/sdp.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "ifmesh/error.hpp"

namespace ifmesh::rtc::sdp {

namespace {

constexpr std::size_t kMaxSdpSize = 64 * 1024;

[[noreturn]] void bad(const std::string& why) {
  throw Error(Errc::MalformedSdp, why);
}

template <typename T>
T number(std::string_view text, T max, const char* what) {
  std::uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || value > max)
    bad(std::string("invalid ") + what + " '" + std::string(text.substr(0, 40)) + "'");
  return static_cast<T>(value);
}

std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    std::size_t start = i;
    while (i < s.size() && s[i] != ' ') ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

// RFC 8839 ice-char: ALPHA / DIGIT / "+" / "/".
bool iceChars(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/';
  });
}

std::size_t digestLength(std::string_view algorithm) {
  if (algorithm == "sha-1") return 20;
  if (algorithm == "sha-256") return 32;
  if (algorithm == "sha-384") return 48;
  if (algorithm == "sha-512") return 64;
  return 0;
}

struct Section {
  std::string mline;
  std::string media;  // application, audio, ...
  bool isData = false;
  std::string mid;
  std::string ufrag, pwd, fingerprintAlgorithm, fingerprint, setup;
  std::optional<std::uint16_t> sctpPort;
  std::optional<std::uint64_t> maxMessageSize;
  std::optional<std::uint32_t> muxTag;
  std::vector<std::string> candidates;
  bool endOfCandidates = false;
};

}  // namespace

std::string formatFingerprint(std::span<const std::uint8_t> bytes) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(bytes.size() * 3);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i) out += ':';
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 0xf];
  }
  return out;
}

std::vector<std::uint8_t> parseFingerprint(std::string_view text) {
  std::vector<std::uint8_t> out;
  std::size_t i = 0;
  while (i < text.size()) {
    if (i + 2 > text.size()) bad("fingerprint: truncated hex pair");
    std::uint8_t byte = 0;
    auto [ptr, ec] = std::from_chars(text.data() + i, text.data() + i + 2, byte, 16);
    if (ec != std::errc() || ptr != text.data() + i + 2) bad("fingerprint: invalid hex");
    out.push_back(byte);
    i += 2;
    if (i < text.size()) {
      if (text[i] != ':') bad("fingerprint: expected ':' between bytes");
      if (++i == text.size()) bad("fingerprint: trailing ':'");
    }
  }
  if (out.empty()) bad("fingerprint: empty");
  return out;
}

SessionDescription parse(std::string_view text, SessionDescription::Type type) {
  if (text.size() > kMaxSdpSize) bad("SDP larger than 64 KiB");
  Section session;
  std::vector<Section> sections;
  bool sawVersion = false;
  SessionDescription d;
  d.type = type;

  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (line.size() < 2 || line[1] != '=')
      bad("line without '=': '" + std::string(line.substr(0, 40)) + "'");
    char kind = line[0];
    std::string_view value = line.substr(2);
    if (!sawVersion) {
      if (kind != 'v' || value != "0") bad("SDP must start with v=0");
      sawVersion = true;
      continue;
    }
    if (kind == 'o') {
      auto w = words(value);
      if (w.size() != 6) bad("o= line needs 6 fields");
      d.sessionId = number<std::uint64_t>(w[1], UINT64_MAX, "session id");
      d.sessionVersion = number<std::uint64_t>(w[2], UINT64_MAX, "session version");
      continue;
    }
    if (kind == 'm') {
      auto w = words(value);
      if (w.size() < 4) bad("m= line needs at least 4 fields");
      Section s;
      s.mline = std::string(value);
      s.media = std::string(w[0]);
      number<std::uint16_t>(w[1].substr(0, w[1].find('/')), 65535, "m= port");
      s.isData =
          w[0] == "application" && ((w[2] == "UDP/DTLS/SCTP" && w[3] == "webrtc-datachannel") ||
                                    (w[2] == "DTLS/SCTP" && w[3] == "webrtc-datachannel") ||
                                    (w[2] == "DTLS/SCTP" && w[3] == "5000"));
      if (w[2] == "DTLS/SCTP" && w[3] == "5000") s.sctpPort = 5000;  // legacy sctpmap form
      sections.push_back(std::move(s));
      continue;
    }
    if (kind != 'a') continue;  // s=, t=, c=, b= ... carry nothing we need
    Section& target = sections.empty() ? session : sections.back();
    std::string_view name = value.substr(0, value.find(':'));
    std::string_view arg = value.find(':') == std::string_view::npos
                               ? std::string_view{}
                               : value.substr(value.find(':') + 1);
    if (name == "mid") {
      target.mid = std::string(arg);
    } else if (name == "ice-ufrag") {
      target.ufrag = std::string(arg);
    } else if (name == "ice-pwd") {
      target.pwd = std::string(arg);
    } else if (name == "ice-lite") {
      d.iceLite = true;
    } else if (name == "fingerprint") {
      auto w = words(arg);
      if (w.size() != 2) bad("a=fingerprint needs an algorithm and a value");
      target.fingerprintAlgorithm = std::string(w[0]);
      std::transform(target.fingerprintAlgorithm.begin(), target.fingerprintAlgorithm.end(),
                     target.fingerprintAlgorithm.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      target.fingerprint = std::string(w[1]);
    } else if (name == "setup") {
      if (arg != "actpass" && arg != "active" && arg != "passive") bad("invalid a=setup value");
      target.setup = std::string(arg);
    } else if (name == "sctp-port") {
      target.sctpPort = number<std::uint16_t>(arg, 65535, "sctp-port");
      if (*target.sctpPort == 0) bad("sctp-port must be 1..65535");
    } else if (name == "sctpmap") {
      auto w = words(arg);
      if (!w.empty()) {
        target.sctpPort = number<std::uint16_t>(w[0], 65535, "sctpmap port");
        if (*target.sctpPort == 0) bad("sctpmap port must be 1..65535");  // as a=sctp-port
      }
    } else if (name == "max-message-size") {
      target.maxMessageSize = number<std::uint64_t>(arg, UINT64_MAX, "max-message-size");
    } else if (name == "x-ifmesh-mux") {
      target.muxTag = number<std::uint32_t>(arg, UINT32_MAX, "x-ifmesh-mux");
      if (*target.muxTag == 0) bad("x-ifmesh-mux must be 1..4294967295");
    } else if (name == "candidate") {
      if (target.candidates.size() >= 256) bad("too many candidates");
      target.candidates.push_back(std::string(value));
    } else if (name == "end-of-candidates") {
      target.endOfCandidates = true;
    }
  }
  if (!sawVersion) bad("empty SDP");

  auto data =
      std::find_if(sections.begin(), sections.end(), [](const Section& s) { return s.isData; });
  if (data == sections.end())
    bad("no 'm=application ... UDP/DTLS/SCTP webrtc-datachannel' section");
  if (std::count_if(sections.begin(), sections.end(), [](const Section& s) { return s.isData; }) >
      1)
    bad("more than one data m-section");
  d.dataIndex = static_cast<std::size_t>(data - sections.begin());
  for (const auto& s : sections)
    if (!s.isData) d.otherMedia.push_back({s.mline, s.mid});

  auto pick = [](const std::string& media, const std::string& sess) {
    return media.empty() ? sess : media;
  };
  d.iceUfrag = pick(data->ufrag, session.ufrag);
  d.icePwd = pick(data->pwd, session.pwd);
  if (d.iceUfrag.size() < 4 || d.iceUfrag.size() > 256 || !iceChars(d.iceUfrag))
    bad("a=ice-ufrag missing or invalid (4..256 ice-chars)");
  if (d.icePwd.size() < 22 || d.icePwd.size() > 256 || !iceChars(d.icePwd))
    bad("a=ice-pwd missing or invalid (22..256 ice-chars)");

  std::string algorithm = pick(data->fingerprintAlgorithm, session.fingerprintAlgorithm);
  std::string fingerprint = pick(data->fingerprint, session.fingerprint);
  if (fingerprint.empty()) bad("a=fingerprint missing");
  std::size_t expected = digestLength(algorithm);
  if (expected == 0) bad("unsupported fingerprint algorithm '" + algorithm + "'");
  d.fingerprintAlgorithm = algorithm;
  d.fingerprint = parseFingerprint(fingerprint);
  if (d.fingerprint.size() != expected) bad("fingerprint length does not match " + algorithm);

  std::string setup = pick(data->setup, session.setup);
  if (setup.empty())
    d.setup = type == SessionDescription::Type::Offer ? SessionDescription::Setup::ActPass
                                                      : SessionDescription::Setup::Active;
  else
    d.setup = setup == "actpass"  ? SessionDescription::Setup::ActPass
              : setup == "active" ? SessionDescription::Setup::Active
                                  : SessionDescription::Setup::Passive;

  d.mid = data->mid.empty() ? "0" : data->mid;
  d.sctpPort = data->sctpPort.value_or(5000);
  d.maxMessageSize = data->maxMessageSize ? data->maxMessageSize : session.maxMessageSize;
  d.muxTag = data->muxTag ? data->muxTag : session.muxTag;
  d.candidates = data->candidates;
  d.candidates.insert(d.candidates.end(), session.candidates.begin(), session.candidates.end());
  d.endOfCandidates = data->endOfCandidates || session.endOfCandidates;
  return d;
}

std::string serialize(const SessionDescription& d) {
  const char* setup = d.setup == SessionDescription::Setup::ActPass  ? "actpass"
                      : d.setup == SessionDescription::Setup::Active ? "active"
                                                                     : "passive";
  std::string data;
  data += "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n";
  data += "c=IN IP4 0.0.0.0\r\n";
  data += "a=mid:" + d.mid + "\r\n";
  data += "a=ice-ufrag:" + d.iceUfrag + "\r\n";
  data += "a=ice-pwd:" + d.icePwd + "\r\n";
  if (d.trickle) data += "a=ice-options:trickle\r\n";
  data +=
      "a=fingerprint:" + d.fingerprintAlgorithm + " " + formatFingerprint(d.fingerprint) + "\r\n";
  data += std::string("a=setup:") + setup + "\r\n";
  data += "a=sctp-port:" + std::to_string(d.sctpPort) + "\r\n";
  if (d.maxMessageSize) data += "a=max-message-size:" + std::to_string(*d.maxMessageSize) + "\r\n";
  if (d.muxTag) data += "a=x-ifmesh-mux:" + std::to_string(*d.muxTag) + "\r\n";
  for (const auto& c : d.candidates) data += "a=" + c + "\r\n";
  if (d.endOfCandidates) data += "a=end-of-candidates\r\n";

  std::string out = "v=0\r\n";
  out += "o=- " + std::to_string(d.sessionId) + " " + std::to_string(d.sessionVersion) +
         " IN IP4 127.0.0.1\r\n";
  out += "s=-\r\nt=0 0\r\n";
  out += "a=group:BUNDLE " + d.mid + "\r\n";
  out += "a=msid-semantic: WMS\r\n";
  // Rejected (port 0) copies of the offer's other m-sections keep their original positions.
  auto rejected = [](const SessionDescription::OtherMedia& m) {
    std::string mline = m.mline;
    auto first = mline.find(' ');
    auto second = first == std::string::npos ? std::string::npos : mline.find(' ', first + 1);
    if (second != std::string::npos) mline = mline.substr(0, first) + " 0" + mline.substr(second);
    std::string s = "m=" + mline + "\r\nc=IN IP4 0.0.0.0\r\n";
    if (!m.mid.empty()) s += "a=mid:" + m.mid + "\r\n";
    return s + "a=inactive\r\n";
  };
  std::size_t dataIndex = std::min(d.dataIndex, d.otherMedia.size());
  for (std::size_t i = 0, other = 0; i <= d.otherMedia.size(); ++i)
    out += i == dataIndex ? data : rejected(d.otherMedia[other++]);
  return out;
}

}  // namespace ifmesh::rtc::sdp
