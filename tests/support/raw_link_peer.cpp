#include "support/raw_link_peer.hpp"

#include <algorithm>
#include <array>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <utility>

#include "ifmesh/error.hpp"
#include "ifmesh/rtc/peer_connection.hpp"
#include "ifmesh/signaling.hpp"
#include "ifmesh/witness.hpp"
#include "mesh/link_auth.hpp"

namespace ifmesh::test {

namespace link = detail::link;
using json = nlohmann::json;

IFMessage signedMessage(const AgentIdentity& identity, const std::string& source,
                        const std::string& destination, std::uint64_t sequence,
                        nlohmann::json payload, std::uint64_t incarnation) {
  IFMessage m;
  m.id = newMessageId();
  m.source = source;
  m.destination = destination;
  m.timestamp = isoTimestampNow();
  m.sequence = sequence;
  m.incarnation = incarnation;
  m.payload = std::move(payload);
  signMessage(m, identity);
  return m;
}

namespace {
// Non-zero and below 2^53, as the protocol wants incarnations and connection ids.
std::uint64_t randomId() {
  static std::mutex mutex;
  static std::mt19937_64 rng{std::random_device{}()};
  std::lock_guard lock(mutex);
  return (rng() & ((1ULL << 52) - 1)) | 1;
}

std::uint64_t unsignedField(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : 0;
}

std::string stringField(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}
}  // namespace

struct RawLinkPeer::Core : std::enable_shared_from_this<Core> {
  explicit Core(RawLinkPeerConfig c)
      : config(std::move(c)),
        identity(config.identity ? *config.identity : AgentIdentity::generate()),
        incarnation(randomId()) {
    worker = std::thread([this] { run(); });
  }

  const RawLinkPeerConfig config;
  const AgentIdentity identity;
  const std::uint64_t incarnation;
  std::unique_ptr<signaling::Client> signaling;

  // The worker: events and sends, one at a time, in the order they were posted.
  std::thread worker;
  std::mutex queueMutex;
  std::condition_variable queueCv;
  std::deque<std::function<void()>> queue;
  bool stopping = false;

  // Worker thread only.
  std::string target;
  std::unique_ptr<PeerConnection> pc;
  // Connections given up without closing them, closed only when the peer goes.
  std::vector<std::pair<std::unique_ptr<PeerConnection>, std::shared_ptr<DataChannel>>> abandoned;
  std::shared_ptr<DataChannel> channel;
  std::uint64_t sid = 0;  // the current connection; 0: none
  bool helloSent = false;

  // Shared with the callers' threads.
  mutable std::mutex mutex;
  bool open = false;  // the channel is open and our hello is on it
  std::size_t connections = 0;
  std::vector<link::Frame> frames;
  std::vector<IFMessage> messages;
  std::size_t hellos = 0;
  link::LaneCounts acked{}, delivered{}, nextSeq{};
  std::array<std::deque<std::pair<std::uint64_t, std::string>>, link::kLanes> unacked;
  std::uint64_t peerIncarnation = 0;
  std::map<std::pair<std::string, int>, std::uint64_t> endToEnd;

  void run() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock lock(queueMutex);
        queueCv.wait(lock, [&] { return stopping || !queue.empty(); });
        if (stopping) return;
        task = std::move(queue.front());
        queue.pop_front();
      }
      task();
    }
  }

  void post(std::function<void()> task) {
    {
      std::lock_guard lock(queueMutex);
      if (stopping) return;
      queue.push_back(std::move(task));
    }
    queueCv.notify_one();
  }

  void invoke(std::function<void()> task) {
    std::promise<void> done;
    post([&] {
      task();
      done.set_value();
    });
    done.get_future().wait();
  }

  // Runs `fn` on the worker if this Core still exists (for callbacks of other threads).
  static void later(const std::weak_ptr<Core>& weak, std::function<void(Core&)> fn) {
    if (auto self = weak.lock()) self->post([self = self.get(), fn = std::move(fn)] { fn(*self); });
  }

  void shutdown() {
    if (signaling) signaling->close();
    invoke([this] {
      closeConnection();
      abandoned.clear();
    });
    {
      std::lock_guard lock(queueMutex);
      stopping = true;
      queue.clear();
    }
    queueCv.notify_one();
    worker.join();
    signaling.reset();
  }

  void startSignaling() {
    signaling::ClientConfig c;
    c.url = config.signalingUrl;
    c.agentId = config.id;
    c.publicKey = identity.publicKey();
    signaling = std::make_unique<signaling::Client>(c);
    std::weak_ptr<Core> weak = weak_from_this();
    signaling->onRelay([weak](const std::string& from, const std::string& type, const json& msg) {
      later(weak, [from, type, msg](Core& self) { self.onRelay(from, type, msg); });
    });
    signaling->connect();
  }

  bool offerer() const { return config.id < target; }

  void signal(const std::string& type, json body) {
    signaling->send(target, type, std::move(body));
  }

  void onRelay(const std::string& from, const std::string& type, const json& msg) {
    if (from != target) {
      // Only one link: another agent that wants one is told to stop trying.
      if (type == "offer" || type == "connect-request")
        signaling->send(from, "bye", json::object());
      return;
    }
    const std::uint64_t msgSid = unsignedField(msg, "sid");
    try {
      if (type == "offer" && msg.contains("offer") && msg["offer"].is_object()) {
        newConnection(msgSid);
        pc->setRemoteDescription({Description::Type::Offer, stringField(msg["offer"], "sdp")});
        auto answer = pc->createAnswer();
        signal("answer", {{"sid", sid}, {"answer", {{"type", "answer"}, {"sdp", answer.sdp}}}});
      } else if (type == "answer" && pc && msgSid == sid && msg.contains("answer") &&
                 msg["answer"].is_object()) {
        pc->setRemoteDescription({Description::Type::Answer, stringField(msg["answer"], "sdp")});
      } else if (type == "ice-candidate" && pc && msgSid == sid && msg.contains("candidate") &&
                 msg["candidate"].is_object()) {
        pc->addRemoteCandidate(
            {stringField(msg["candidate"], "candidate"), stringField(msg["candidate"], "sdpMid")});
      } else if (type == "connect-request" && offerer()) {
        offer();
      } else if (type == "bye") {
        closeConnection();
      }
    } catch (const Error&) {
      // A description or candidate we cannot use: the connection does not come up, and the
      // test waiting for it says so.
    }
  }

  void connect(const std::string& agentId) {
    target = agentId;
    if (offerer())
      offer();
    else
      signal("connect-request", json::object());
  }

  void offer() {
    newConnection(randomId());
    auto description = pc->createOffer();
    signal("offer", {{"sid", sid}, {"offer", {{"type", "offer"}, {"sdp", description.sdp}}}});
  }

  void newConnection(std::uint64_t connectionSid) {
    closeConnection();
    sid = connectionSid;
    RtcConfiguration rc;
    rc.localAddresses = config.localAddresses;
    pc = std::make_unique<PeerConnection>(rc);
    DataChannelInit init;
    init.negotiatedId = link::kChannelStreamId;
    channel = pc->createDataChannel(link::kChannelLabel, init);
    std::weak_ptr<Core> weak = weak_from_this();
    const std::uint64_t s = sid;
    // Each event runs on the worker, and only while its connection is the current one.
    auto current = [weak, s](std::function<void(Core&)> fn) {
      later(weak, [s, fn = std::move(fn)](Core& self) {
        if (self.sid == s && self.pc) fn(self);
      });
    };
    // Candidates reach the worker after the task that created the description has signaled it.
    pc->onLocalCandidate([current](const Candidate& c) {
      current([c](Core& self) {
        self.signal(
            "ice-candidate",
            {{"sid", self.sid}, {"candidate", {{"candidate", c.candidate}, {"sdpMid", c.mid}}}});
      });
    });
    pc->onStateChange([current](PeerConnectionState state) {
      if (state == PeerConnectionState::Failed || state == PeerConnectionState::Closed)
        current([](Core& self) { self.channelDown(); });
    });
    channel->onOpen([current] { current([](Core& self) { self.channelOpen(); }); });
    channel->onClose([current] { current([](Core& self) { self.channelDown(); }); });
    channel->onMessage(
        [current](Message&& m) { current([m = std::move(m)](Core& self) { self.receive(m); }); });
  }

  // The current connection stays up, silent, but is no longer ours (see RawLinkPeer::abandon).
  void abandonConnection() {
    if (channel) {
      channel->onOpen(nullptr);
      channel->onClose(nullptr);
      channel->onMessage(nullptr);
    }
    if (pc) {
      pc->onLocalCandidate(nullptr);
      pc->onStateChange(nullptr);
    }
    abandoned.emplace_back(std::move(pc), std::move(channel));
    pc.reset();
    channel.reset();
    sid = 0;
    channelDown();
  }

  void closeConnection() {
    if (channel) {
      channel->onOpen(nullptr);
      channel->onClose(nullptr);
      channel->onMessage(nullptr);
    }
    channel.reset();
    if (pc) {
      pc->onLocalCandidate(nullptr);
      pc->onStateChange(nullptr);
      pc.reset();
    }
    sid = 0;
    channelDown();
  }

  void channelOpen() {
    sendHello();
    std::lock_guard lock(mutex);
    open = true;
    ++connections;
  }

  void channelDown() {
    helloSent = false;
    std::lock_guard lock(mutex);
    open = false;
  }

  void sendHello() {
    if (!channel || !channel->isOpen()) return;
    link::Hello h;
    {
      std::lock_guard lock(mutex);
      h.delivered = delivered;
      h.aboutIncarnation = peerIncarnation;
    }
    h.incarnation = incarnation;
    h.readsZstd = true;  // frames() opens compressed channel messages
    h.fingerprint =
        config.helloFingerprint.empty() ? pc->localFingerprint() : config.helloFingerprint;
    h.signature =
        identity.sign(detail::helloSigningInput(config.id, incarnation, h.fingerprint, target));
    helloSent = true;
    transmit(link::encode(h));
  }

  // Frames go out once our hello has opened the connection; until then they are lost, as on a
  // channel that is down (what send() keeps is resent after the agent's next hello).
  void transmit(const std::string& text) {
    if (!helloSent || !channel) return;
    try {
      channel->send(text);
    } catch (const Error&) {
      // Closed under us: the same as down.
    }
  }

  void receive(const Message& m) {
    std::vector<link::Frame> decoded;
    if (auto* text = std::get_if<std::string>(&m)) {
      decoded = link::decode(*text);
    } else {
      const auto& bytes = std::get<Binary>(m);
      decoded = link::decodeBinary(bytes, 1 << 20);
    }
    for (auto& frame : decoded) handle(frame);
  }

  // Mutex held.
  void acknowledge(int lane, std::uint64_t seq) {
    acked[lane] = std::max(acked[lane], seq);
    auto& q = unacked[lane];
    while (!q.empty() && q.front().first <= seq) q.pop_front();
  }

  void handle(const link::Frame& frame) {
    std::vector<std::string> resend;
    {
      std::lock_guard lock(mutex);
      frames.push_back(frame);
      if (auto* hello = std::get_if<link::Hello>(&frame)) {
        ++hellos;
        if (hello->incarnation != 0) peerIncarnation = hello->incarnation;
        if (!hello->aboutIncarnation || *hello->aboutIncarnation == incarnation)
          for (int l = 0; l < link::kLanes; ++l) acknowledge(l, hello->delivered[l]);
        // Every hello asks for what it did not acknowledge, lane by lane, in order.
        for (const auto& lane : unacked)
          for (const auto& [seq, text] : lane) resend.push_back(text);
      } else if (auto* ack = std::get_if<link::Ack>(&frame)) {
        acknowledge(ack->lane, ack->seq);
      } else if (auto* msg = std::get_if<link::Msg>(&frame)) {
        if (msg->ack != 0) acknowledge(msg->lane, msg->ack);
        if (msg->seq == delivered[msg->lane] + 1) {
          delivered[msg->lane] = msg->seq;
          messages.push_back(msg->message);
        }
      }
    }
    for (const auto& text : resend) transmit(text);
  }
};

RawLinkPeer::RawLinkPeer(RawLinkPeerConfig config)
    : core_(std::make_shared<Core>(std::move(config))) {}

RawLinkPeer::~RawLinkPeer() {
  core_->shutdown();
}

const std::string& RawLinkPeer::id() const {
  return core_->config.id;
}

const AgentIdentity& RawLinkPeer::identity() const {
  return core_->identity;
}

std::uint64_t RawLinkPeer::incarnation() const {
  return core_->incarnation;
}

void RawLinkPeer::connectToSignaling() {
  core_->invoke([this] { core_->startSignaling(); });
}

bool RawLinkPeer::waitRegistered(std::chrono::milliseconds timeout) const {
  return core_->signaling && core_->signaling->waitRegistered(timeout);
}

void RawLinkPeer::connect(const std::string& agentId) {
  core_->post([core = core_.get(), agentId] { core->connect(agentId); });
}

void RawLinkPeer::abandon() {
  core_->post([core = core_.get()] { core->abandonConnection(); });
}

bool RawLinkPeer::isOpen() const {
  std::lock_guard lock(core_->mutex);
  return core_->open;
}

bool RawLinkPeer::waitOpen(std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!isOpen()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

IFMessage RawLinkPeer::message(const std::string& destination, IFMessage m) {
  if (m.id.empty()) m.id = newMessageId();
  if (m.timestamp.empty()) m.timestamp = isoTimestampNow();
  m.source = id();
  m.destination = destination;
  m.incarnation = incarnation();
  {
    std::lock_guard lock(core_->mutex);
    m.sequence = ++core_->endToEnd[{destination, static_cast<int>(m.priority)}];
  }
  signMessage(m, identity());
  return m;
}

std::uint64_t RawLinkPeer::send(const IFMessage& m, int hops, std::optional<int> lane) {
  const int l = lane.value_or(static_cast<int>(m.priority));
  std::lock_guard lock(core_->mutex);
  const std::uint64_t seq = ++core_->nextSeq.at(l);
  std::string frame = link::encodeMsg(seq, hops, l, 0, serialize(m));
  core_->unacked[l].emplace_back(seq, frame);
  // Posted under the lock: frames leave in the order of their sequences.
  core_->post([core = core_.get(), frame = std::move(frame)] { core->transmit(frame); });
  return seq;
}

void RawLinkPeer::sendMsg(const detail::link::Msg& msg) {
  sendText(link::encodeMsg(msg.seq, msg.hops, msg.lane, msg.ack, serialize(msg.message),
                           msg.ackRequested));
}

void RawLinkPeer::sendAck(int lane, std::uint64_t seq) {
  sendText(link::encode(link::Ack{seq, lane}));
}

void RawLinkPeer::sendHello() {
  core_->post([core = core_.get()] { core->sendHello(); });
}

void RawLinkPeer::sendText(std::string text) {
  core_->post([core = core_.get(), text = std::move(text)] { core->transmit(text); });
}

std::vector<detail::link::Frame> RawLinkPeer::frames() const {
  std::lock_guard lock(core_->mutex);
  return core_->frames;
}

std::vector<IFMessage> RawLinkPeer::messages() const {
  std::lock_guard lock(core_->mutex);
  return core_->messages;
}

std::size_t RawLinkPeer::hellosReceived() const {
  std::lock_guard lock(core_->mutex);
  return core_->hellos;
}

std::uint64_t RawLinkPeer::acknowledged(int lane) const {
  std::lock_guard lock(core_->mutex);
  return core_->acked.at(lane);
}

std::size_t RawLinkPeer::unacknowledged() const {
  std::lock_guard lock(core_->mutex);
  std::size_t n = 0;
  for (const auto& lane : core_->unacked) n += lane.size();
  return n;
}

std::size_t RawLinkPeer::connections() const {
  std::lock_guard lock(core_->mutex);
  return core_->connections;
}

}  // namespace ifmesh::test
