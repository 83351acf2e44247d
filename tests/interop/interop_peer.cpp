// The C++ side of the browser interop tests (README.md beside this file). It registers with a
// signaling server, answers offers, and obeys text commands that the browser sends on any
// DataChannel; every other message is echoed back on the channel it came in on, same type.
//
//   "offer:<peerId>"  make a new connection to <peerId> as the offerer (channel "control")
//   "open:<label>"    open a channel <label> on this connection        → "ok:open:<label>"
//   "close"           close the channel the command came in on
//   "maxsize?"        → "maxsize:<this channel's maxMessageSize()>"
//
// When a channel closes, "event:closed:<label>" goes out on the connection's "control" channel,
// so the browser can see that the C++ side noticed a close it made.
//
// Threads: signaling and DataChannel callbacks only post to one queue that main() drains, so all
// state lives on one thread and no PeerConnection is touched or destroyed inside its own callback.
#include <atomic>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <deque>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>

#include "ifmesh/rtc/peer_connection.hpp"
#include "ifmesh/signaling.hpp"

namespace {

using namespace ifmesh;
using nlohmann::json;

std::atomic<bool> stopRequested{false};

class TaskQueue {
 public:
  void post(std::function<void()> task) {
    {
      std::lock_guard lock(mutex_);
      tasks_.push_back(std::move(task));
    }
    cv_.notify_one();
  }
  // Runs tasks until a stop is requested (polled, since a signal handler cannot notify).
  void run() {
    while (!stopRequested) {
      std::unique_lock lock(mutex_);
      cv_.wait_for(lock, std::chrono::milliseconds(100), [&] { return !tasks_.empty(); });
      if (tasks_.empty()) continue;
      auto task = std::move(tasks_.front());
      tasks_.pop_front();
      lock.unlock();
      task();
    }
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
};

struct Options {
  std::string url;
  std::string id = "cpp-peer";
  std::size_t maxMessageSize = 256 * 1024;
  bool sharedIceSocket = RtcConfiguration{}.sharedIceSocket;  // --ice shared|libnice
};

// One PeerConnection, named by the offerer's session id.
struct Connection {
  std::uint64_t sid = 0;
  std::string peer;
  std::unique_ptr<PeerConnection> pc;
  std::vector<std::shared_ptr<DataChannel>> channels;
  bool descriptionSent = false;  // candidates wait for the offer/answer they belong to
  std::vector<json> heldCandidates;
};

signaling::ClientConfig clientConfig(const Options& options) {
  signaling::ClientConfig config;
  config.url = options.url;
  config.agentId = options.id;
  return config;
}

class InteropPeer {
 public:
  explicit InteropPeer(Options options)
      : options_(std::move(options)), client_(clientConfig(options_)) {}

  int run() {
    client_.onRegistered([this](const std::vector<std::string>&) {
      std::cout << "READY " << options_.id << std::endl;  // the wrapper waits for this line
    });
    client_.onError([](const std::string& code, const std::string& message) {
      std::cerr << "signaling error " << code << ": " << message << "\n";
    });
    client_.onRelay([this](const std::string& from, const std::string& type, const json& msg) {
      queue_.post([this, from, type, msg] { onRelay(from, type, msg); });
    });
    client_.connect();
    queue_.run();
    client_.close();
    connections_.clear();
    return 0;
  }

 private:
  static std::uint64_t sidOf(const json& msg) {
    auto it = msg.find("sid");
    return it != msg.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : 0;
  }

  void onRelay(const std::string& from, const std::string& type, const json& msg) {
    std::uint64_t sid = sidOf(msg);
    try {
      if (type == "offer") {
        auto& c = newConnection(from, sid);
        std::string sdp = msg.at("offer").at("sdp");
        std::cerr << "[" << sid << "] remote offer:\n" << sdp;
        c.pc->setRemoteDescription({Description::Type::Offer, sdp});
        Description answer = c.pc->createAnswer();
        std::cerr << "[" << sid << "] local answer:\n" << answer.sdp;
        client_.send(from, "answer",
                     {{"sid", sid}, {"answer", {{"type", "answer"}, {"sdp", answer.sdp}}}});
        releaseCandidates(c);
      } else if (auto* c = find(sid); c && type == "answer") {
        std::string sdp = msg.at("answer").at("sdp");
        std::cerr << "[" << sid << "] remote answer:\n" << sdp;
        c->pc->setRemoteDescription({Description::Type::Answer, sdp});
      } else if (c && type == "ice-candidate") {
        const json& cand = msg.at("candidate");
        std::string line = cand.value("candidate", "");
        std::cerr << "[" << sid << "] remote candidate: " << (line.empty() ? "(end)" : line)
                  << "\n";
        c->pc->addRemoteCandidate({line, cand.value("sdpMid", "0")});
      } else if (type == "bye") {
        // A bye names its connection by sid; one without a sid ends every connection to `from`.
        std::erase_if(connections_, [&](const auto& kv) {
          return kv.second->peer == from && (sid == 0 || kv.first == sid);
        });
        std::cerr << "bye from " << from << "\n";
      } else {
        std::cerr << "ignored '" << type << "' from " << from << " (sid " << sid << ")\n";
      }
    } catch (const std::exception& e) {
      // A candidate we cannot use (e.g. TCP) is not fatal; log it for the test's failure output.
      std::cerr << "[" << sid << "] " << type << " failed: " << e.what() << "\n";
    }
  }

  Connection* find(std::uint64_t sid) {
    auto it = connections_.find(sid);
    return it == connections_.end() ? nullptr : it->second.get();
  }

  Connection& newConnection(const std::string& peer, std::uint64_t sid) {
    RtcConfiguration config;
    config.localAddresses = {"127.0.0.1"};  // loopback only, never a STUN server
    config.maxMessageSize = options_.maxMessageSize;
    config.sharedIceSocket = options_.sharedIceSocket;
    auto c = std::make_unique<Connection>();
    c->sid = sid;
    c->peer = peer;
    c->pc = std::make_unique<PeerConnection>(config);
    c->pc->onLocalCandidate([this, sid](const Candidate& cand) {
      queue_.post([this, sid, cand] { localCandidate(sid, cand); });
    });
    c->pc->onStateChange([sid](PeerConnectionState s) {
      std::cerr << "[" << sid << "] state " << toString(s) << "\n";
    });
    c->pc->onDataChannel([this, sid](std::shared_ptr<DataChannel> channel) {
      queue_.post([this, sid, channel] { adopt(sid, channel); });
    });
    auto& slot = connections_[sid];
    slot = std::move(c);
    return *slot;
  }

  void localCandidate(std::uint64_t sid, const Candidate& cand) {
    auto* c = find(sid);
    if (!c) return;
    std::cerr << "[" << sid
              << "] local candidate: " << (cand.candidate.empty() ? "(end)" : cand.candidate)
              << "\n";
    json body = {{"sid", sid},
                 {"candidate", {{"candidate", cand.candidate}, {"sdpMid", cand.mid}}}};
    if (c->descriptionSent)
      client_.send(c->peer, "ice-candidate", std::move(body));
    else
      c->heldCandidates.push_back(std::move(body));
  }

  void releaseCandidates(Connection& c) {
    c.descriptionSent = true;
    for (auto& body : c.heldCandidates) client_.send(c.peer, "ice-candidate", std::move(body));
    c.heldCandidates.clear();
  }

  void adopt(std::uint64_t sid, std::shared_ptr<DataChannel> channel) {
    auto* c = find(sid);
    if (!c) return;
    c->channels.push_back(channel);
    std::weak_ptr<DataChannel> weak = channel;
    channel->onMessage([this, sid, weak](Message&& m) {
      queue_.post([this, sid, weak, m = std::move(m)]() mutable {
        if (auto ch = weak.lock()) onMessage(sid, *ch, std::move(m));
      });
    });
    channel->onClose([this, sid, weak] {
      queue_.post([this, sid, weak] {
        if (auto ch = weak.lock()) closed(sid, *ch);
      });
    });
    std::cerr << "[" << sid << "] channel '" << channel->label() << "'\n";
  }

  void onMessage(std::uint64_t sid, DataChannel& channel, Message&& m) {
    auto* c = find(sid);
    if (!c || !channel.isOpen()) return;
    const auto* text = std::get_if<std::string>(&m);
    try {
      if (text && text->starts_with("offer:")) {
        offerTo(text->substr(6));
        channel.send("ok:" + *text);
      } else if (text && text->starts_with("open:")) {
        adopt(sid, c->pc->createDataChannel(text->substr(5)));
        channel.send("ok:" + *text);
      } else if (text && *text == "close") {
        channel.close();
      } else if (text && *text == "maxsize?") {
        channel.send("maxsize:" + std::to_string(channel.maxMessageSize()));
      } else if (text) {
        channel.send(*text);
      } else {
        channel.send(std::get<Binary>(m));
      }
    } catch (const std::exception& e) {
      std::cerr << "[" << sid << "] on '" << channel.label() << "': " << e.what() << "\n";
    }
  }

  void closed(std::uint64_t sid, DataChannel& channel) {
    std::cerr << "[" << sid << "] channel '" << channel.label() << "' closed\n";
    auto* c = find(sid);
    if (!c) return;
    for (auto& other : c->channels)
      if (other->label() == "control" && other->isOpen() && other.get() != &channel)
        other->send("event:closed:" + channel.label());
  }

  void offerTo(const std::string& peer) {
    // Non-zero and exact in JavaScript numbers, like the mesh agents' session ids.
    std::uint64_t sid = (rng_() & ((1ULL << 52) - 1)) | 1;
    auto& c = newConnection(peer, sid);
    adopt(sid, c.pc->createDataChannel("control"));
    Description offer = c.pc->createOffer();
    std::cerr << "[" << sid << "] local offer:\n" << offer.sdp;
    client_.send(peer, "offer", {{"sid", sid}, {"offer", {{"type", "offer"}, {"sdp", offer.sdp}}}});
    releaseCandidates(c);
  }

  // Declared so that connections go first and the queue last: late callbacks still find it.
  Options options_;
  TaskQueue queue_;
  signaling::Client client_;
  std::map<std::uint64_t, std::unique_ptr<Connection>> connections_;
  std::mt19937_64 rng_{std::random_device{}()};
};

void usage() {
  std::cerr << "usage: ifmesh_interop_peer --signal ws://127.0.0.1:PORT [--id cpp-peer]"
               " [--max-message-size BYTES] [--ice libnice|shared]\n";
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--signal")
      options.url = argv[i + 1];
    else if (flag == "--id")
      options.id = argv[i + 1];
    else if (flag == "--max-message-size")
      options.maxMessageSize = std::strtoul(argv[i + 1], nullptr, 10);
    else if (flag == "--ice" &&
             (std::string(argv[i + 1]) == "libnice" || std::string(argv[i + 1]) == "shared"))
      options.sharedIceSocket = std::string(argv[i + 1]) == "shared";
    else
      return usage(), 2;
  }
  if (options.url.empty() || argc % 2 == 0) return usage(), 2;
  std::signal(SIGINT, [](int) { stopRequested = true; });
  std::signal(SIGTERM, [](int) { stopRequested = true; });
  return InteropPeer(options).run();
}
