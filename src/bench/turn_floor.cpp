#include "bench/turn_floor.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <optional>
#include <stdexcept>
#include <thread>

#include "bench/loopback.hpp"
#include "bench/unique_fd.hpp"
#include "big_endian.hpp"

namespace ifmesh::bench {

namespace {

// RFC 5389 / RFC 5766 numbers.
constexpr std::uint32_t kMagicCookie = 0x2112A442;
constexpr std::uint16_t kAllocate = 0x0003, kRefresh = 0x0004, kChannelBind = 0x0009;
constexpr std::uint16_t kSuccessClass = 0x0100, kErrorClass = 0x0110;
constexpr std::uint16_t kUsername = 0x0006, kIntegrity = 0x0008, kErrorCode = 0x0009,
                        kChannelNumber = 0x000C, kLifetime = 0x000D, kXorPeer = 0x0012,
                        kRealm = 0x0014, kNonce = 0x0015, kXorRelayed = 0x0016,
                        kRequestedTransport = 0x0019;
constexpr std::uint16_t kChannel = 0x4000;  // the first channel number a client may bind
constexpr std::size_t kHeader = 20, kChannelHeader = 4;

using detail::get16;
using detail::get32;
using detail::put16;
using detail::put32;

const char* methodName(std::uint16_t method) {
  return method == kAllocate ? "Allocate" : method == kRefresh ? "Refresh" : "ChannelBind";
}

// One STUN request under construction.
class Request {
 public:
  Request(std::uint16_t type, const std::array<std::uint8_t, 12>& transaction) {
    put16(bytes_, type);
    put16(bytes_, 0);
    put32(bytes_, kMagicCookie);
    bytes_.insert(bytes_.end(), transaction.begin(), transaction.end());
  }
  void add(std::uint16_t type, const void* value, std::size_t length) {
    put16(bytes_, type);
    put16(bytes_, static_cast<std::uint16_t>(length));
    const auto* v = static_cast<const std::uint8_t*>(value);
    bytes_.insert(bytes_.end(), v, v + length);
    while (bytes_.size() % 4) bytes_.push_back(0);
    setLength(bytes_.size() - kHeader);
  }
  void add(std::uint16_t type, const std::string& value) { add(type, value.data(), value.size()); }
  void addXorAddress(std::uint16_t type, const sockaddr_in& address) {
    std::vector<std::uint8_t> v{0, 0x01};
    put16(v, static_cast<std::uint16_t>(ntohs(address.sin_port) ^ (kMagicCookie >> 16)));
    put32(v, ntohl(address.sin_addr.s_addr) ^ kMagicCookie);
    add(type, v.data(), v.size());
  }
  // HMAC-SHA1 over the message so far, with the length already counting the integrity itself.
  void sign(const std::array<std::uint8_t, 16>& key) {
    setLength(bytes_.size() - kHeader + 24);
    std::uint8_t mac[20];
    unsigned int macLength = 0;
    HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), bytes_.data(), bytes_.size(), mac,
         &macLength);
    add(kIntegrity, mac, sizeof mac);
  }
  const std::vector<std::uint8_t>& bytes() const { return bytes_; }

 private:
  void setLength(std::size_t length) {
    detail::store16(bytes_.data() + 2, static_cast<std::uint16_t>(length));
  }
  std::vector<std::uint8_t> bytes_;
};

struct Response {
  std::uint16_t type = 0;
  std::map<std::uint16_t, std::vector<std::uint8_t>> attributes;  // the first of each type

  int errorCode() const {
    auto it = attributes.find(kErrorCode);
    if (it == attributes.end() || it->second.size() < 4) return 0;
    return (it->second[2] & 0x7) * 100 + it->second[3];
  }
  std::string text(std::uint16_t attribute) const {
    auto it = attributes.find(attribute);
    return it == attributes.end() ? "" : std::string(it->second.begin(), it->second.end());
  }
};

// Nothing if `data` is not a STUN message with this transaction id.
std::optional<Response> parseResponse(const std::uint8_t* data, std::size_t size,
                                      const std::array<std::uint8_t, 12>& transaction) {
  if (size < kHeader || get16(data + 4) != (kMagicCookie >> 16) ||
      std::memcmp(data + 8, transaction.data(), transaction.size()) != 0)
    return std::nullopt;
  Response r;
  r.type = get16(data);
  std::size_t end = std::min<std::size_t>(size, kHeader + get16(data + 2));
  for (std::size_t at = kHeader; at + 4 <= end;) {
    std::uint16_t type = get16(data + at), length = get16(data + at + 2);
    if (at + 4 + length > end) break;
    r.attributes.emplace(type, std::vector<std::uint8_t>(data + at + 4, data + at + 4 + length));
    at += 4 + ((length + 3u) & ~3u);
  }
  return r;
}

class TurnClient {
 public:
  explicit TurnClient(const TurnCredentials& server) : server_(server) {
    socket_ = UniqueFd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_in to = loopbackAddress(server.port);
    if (socket_.get() < 0 ||
        ::connect(socket_.get(), reinterpret_cast<sockaddr*>(&to), sizeof to) != 0)
      throw std::runtime_error(std::string("TURN floor: socket: ") + std::strerror(errno));
    timeval tv{2, 0};  // a lost datagram ends the run instead of hanging it
    ::setsockopt(socket_.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    const std::uint8_t udp[4] = {17, 0, 0, 0};
    Response allocated =
        transact(kAllocate, [&](Request& r) { r.add(kRequestedTransport, udp, sizeof udp); });
    const auto& relayed = allocated.attributes[kXorRelayed];
    if (relayed.size() < 8 || relayed[1] != 0x01)
      throw std::runtime_error("TURN floor: no IPv4 relayed address in the Allocate response");
    relayed_.sin_family = AF_INET;
    relayed_.sin_port = htons(get16(relayed.data() + 2) ^ (kMagicCookie >> 16));
    relayed_.sin_addr.s_addr = htonl(get32(relayed.data() + 4) ^ kMagicCookie);
  }
  ~TurnClient() {
    try {  // give the allocation back rather than leave it to time out in the server
      const std::uint8_t zero[4] = {0, 0, 0, 0};
      transact(kRefresh, [&](Request& r) { r.add(kLifetime, zero, sizeof zero); });
    } catch (const std::exception&) {
    }
  }
  TurnClient(const TurnClient&) = delete;
  TurnClient& operator=(const TurnClient&) = delete;

  const sockaddr_in& relayed() const { return relayed_; }
  int socket() const { return socket_.get(); }

  // Binding a channel also installs the permission for the peer.
  void bindChannel(const sockaddr_in& peer) {
    const std::uint8_t number[4] = {kChannel >> 8, kChannel & 0xff, 0, 0};
    transact(kChannelBind, [&](Request& r) {
      r.add(kChannelNumber, number, sizeof number);
      r.addXorAddress(kXorPeer, peer);
    });
  }

 private:
  // Sends the request (signed once the server has named its realm and nonce) until a response
  // comes; a 401 or 438 (stale nonce) teaches the realm and nonce and is answered once more.
  template <typename AddAttributes>
  Response transact(std::uint16_t method, AddAttributes addAttributes) {
    for (int attempt = 0; attempt < 6; ++attempt) {
      std::array<std::uint8_t, 12> transaction{};
      RAND_bytes(transaction.data(), static_cast<int>(transaction.size()));
      Request request(method, transaction);
      addAttributes(request);
      if (!nonce_.empty()) {
        request.add(kUsername, server_.username);
        request.add(kRealm, realm_);
        request.add(kNonce, nonce_);
        request.sign(key_);
      }
      if (::send(socket_.get(), request.bytes().data(), request.bytes().size(), 0) < 0)
        throw std::runtime_error(std::string("TURN floor: send: ") + std::strerror(errno));
      std::optional<Response> response;
      std::uint8_t buffer[1500];
      while (!response) {
        ssize_t got = ::recv(socket_.get(), buffer, sizeof buffer, 0);
        if (got < 0) break;  // timed out: send again
        response = parseResponse(buffer, static_cast<std::size_t>(got), transaction);
      }
      if (!response) continue;
      if ((response->type & 0x0110) == kSuccessClass) return *response;
      int code = response->errorCode();
      if ((response->type & 0x0110) == kErrorClass && (code == 401 || code == 438) &&
          !response->text(kNonce).empty()) {
        if (code == 401 && !nonce_.empty() && response->text(kRealm) == realm_)
          throw std::runtime_error("TURN floor: the server refused the credentials (401)");
        realm_ = response->text(kRealm).empty() ? realm_ : response->text(kRealm);
        nonce_ = response->text(kNonce);
        std::string secret = server_.username + ":" + realm_ + ":" + server_.password;
        EVP_Digest(secret.data(), secret.size(), key_.data(), nullptr, EVP_md5(), nullptr);
        continue;
      }
      throw std::runtime_error(std::string("TURN floor: ") + methodName(method) +
                               " failed with error " + std::to_string(code));
    }
    throw std::runtime_error("TURN floor: the server did not answer");
  }

  TurnCredentials server_;
  UniqueFd socket_;
  std::string realm_, nonce_;
  std::array<std::uint8_t, 16> key_{};
  sockaddr_in relayed_{};
};

}  // namespace

std::vector<double> measureTurnFloorSamples(const TurnCredentials& server, std::size_t payload,
                                            std::size_t warmup, std::size_t samples) {
  TurnClient left(server), right(server);
  left.bindChannel(right.relayed());
  right.bindChannel(left.relayed());

  const std::size_t total = warmup + samples;
  std::vector<std::uint8_t> frame;
  put16(frame, kChannel);
  put16(frame, static_cast<std::uint16_t>(payload));
  frame.resize(kChannelHeader + payload, 'x');

  // The echo side returns each ChannelData message as it came: the same channel number is bound
  // on both allocations, so the message reaches the other side unchanged.
  std::atomic<bool> echoOk{true};
  std::thread echo([&] {
    std::vector<std::uint8_t> buffer(frame.size() + 64);
    for (std::size_t i = 0; i < total; ++i) {
      ssize_t got = ::recv(right.socket(), buffer.data(), buffer.size(), 0);
      if (got < 0 || ::send(right.socket(), buffer.data(), static_cast<std::size_t>(got), 0) < 0) {
        echoOk = false;
        return;
      }
    }
  });
  std::vector<double> rtts;
  rtts.reserve(samples);
  bool ok = true;
  std::vector<std::uint8_t> reply(frame.size() + 64);
  for (std::size_t i = 0; i < total && ok; ++i) {
    auto start = std::chrono::steady_clock::now();
    ok = ::send(left.socket(), frame.data(), frame.size(), 0) >= 0 &&
         ::recv(left.socket(), reply.data(), reply.size(), 0) > 0;
    auto us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start);
    if (i >= warmup) rtts.push_back(us.count());
  }
  echo.join();
  if (!ok || !echoOk) throw std::runtime_error("TURN floor: a datagram was lost on loopback");
  return rtts;
}

}  // namespace ifmesh::bench
