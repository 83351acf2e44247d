// Two link sessions (src/mesh/link_session.hpp) against each other through an in-memory pipe
// that loses, reorders and duplicates channel messages, with a fake clock, reconnections,
// process restarts, receivers that hold messages back, batching and compression. Over many
// random schedules: per lane, each receiver process gets its peer's messages in order and at
// most once; with no restart, every message arrives exactly once; after the faults stop and
// the link reconnects, everything a living sender accepted arrives and is acknowledged.
//
// With a state store (Faults::durable) each side persists its outbox and counters, commits at
// random points and hears later that a commit is durable (as a disk sync does), and a restart is
// a crash: the new process resumes from the last commit written. A receiver records each
// message once (a journal skipping what it recorded before, as `ifmesh agent --record` does), and
// every message whose outbox entry was committed ends up recorded, in order, once.
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <set>

#include <gtest/gtest.h>

#include "mesh/link_auth.hpp"
#include "mesh/link_codec.hpp"
#include "mesh/link_session.hpp"

namespace ifmesh::detail::link {
namespace {

using namespace std::chrono_literals;

struct Faults {
  double loss = 0, reorder = 0, duplicate = 0;  // per channel message in flight
  double disconnect = 0, restart = 0;           // per step
  double holdBack = 0;                          // per delivery
  std::chrono::milliseconds batchDelay{0};
  bool compress = false;
  bool durable = false;  // a state store on both sides; restarts resume from it
};

// A side's state store: what is written now, what the last commit holds, and the commits
// written but not yet reported durable.
struct Store {
  struct Entry {
    IFMessage message;
    int hops = 0;
  };
  std::map<std::uint64_t, Entry> outbox;  // by key, as written so far
  Counters counters;                      // as written so far
  std::uint64_t nextKey = 1;
  // The last commit: what a restarted process resumes from.
  std::map<std::uint64_t, Entry> committedOutbox;
  Counters committedCounters;
  std::deque<Session::CommitPoint> syncing;  // written, durable not yet reported
  // Messages accepted (lane, index) whose outbox entries are not committed yet.
  std::vector<std::pair<int, int>> accepting;
};

// What a receiver process saw: per (sender process, lane), the indices delivered, in order.
using Deliveries = std::map<std::pair<int, int>, std::vector<int>>;

struct Side {
  std::string id, fingerprint;
  AgentIdentity identity = AgentIdentity::generate();
  std::optional<PublicKey> key;
  int process = 0;  // increments on restart
  std::uint64_t incarnation = 0;
  std::unique_ptr<Session> session;
  std::map<int, Deliveries> received;  // by our process number
  // Messages each of our processes accepted: (lane, index), per process.
  std::map<int, std::vector<std::pair<int, int>>> accepted;
  bool needsResume = false;
  Store store;  // with Faults::durable
  // With Faults::durable: per lane, the indices recorded (each once, in order over restarts).
  std::map<int, std::vector<int>> journal;
};

class Harness {
 public:
  Harness(std::uint64_t seed, Faults faults) : rng_(seed), faults_(faults) {
    a_.id = "alice";
    a_.fingerprint = "AA:01";
    b_.id = "bob";
    b_.fingerprint = "BB:02";
    a_.key = PublicKey::parse(a_.identity.publicKey());
    b_.key = PublicKey::parse(b_.identity.publicKey());
    start(a_, b_);
    start(b_, a_);
    connect();
  }

  void step() {
    std::uniform_real_distribution<double> u(0, 1);
    double r = u(rng_);
    if (r < faults_.disconnect) return connect();
    if (r < faults_.disconnect + faults_.restart) {
      restart(u(rng_) < 0.5 ? a_ : b_);
      return connect();
    }
    switch (rng_() % (faults_.durable ? 8 : 6)) {
      case 0:
      case 1:
        send(rng_() % 2 ? a_ : b_);
        break;
      case 2:
      case 3:
        if (rng_() % 2)
          carry(toB_, b_, true);
        else
          carry(toA_, a_, true);
        break;
      case 4:
        now_ += std::chrono::milliseconds(rng_() % 300);
        tick(a_);
        tick(b_);
        break;
      case 5:
        for (Side* s : {&a_, &b_})
          if (s->needsResume && rng_() % 2) {
            s->needsResume = false;
            s->session->resumeReceiving();
            collect(*s);
          }
        break;
      case 6:
        commit(rng_() % 2 ? a_ : b_);
        break;
      case 7:
        synced(rng_() % 2 ? a_ : b_);
        break;
    }
  }

  // Faults stop; one clean reconnection, then the link runs until nothing is left to do.
  void settle() {
    faults_ = Faults{
        .batchDelay = faults_.batchDelay, .compress = faults_.compress, .durable = faults_.durable};
    connect();
    for (int round = 0; round < 200; ++round) {
      for (Side* s : {&a_, &b_}) {
        if (s->needsResume) {
          s->needsResume = false;
          s->session->resumeReceiving();
          collect(*s);
        }
        if (faults_.durable) {
          commit(*s);
          while (!s->store.syncing.empty()) synced(*s);
        }
      }
      carryAll();
      now_ += 1s;
      tick(a_);
      tick(b_);
      carryAll();
      if (toA_.empty() && toB_.empty() && a_.session->unacknowledged() == 0 &&
          b_.session->unacknowledged() == 0)
        return;
    }
  }

  // Each receiver process: per (sender process, lane) in order without duplicates.
  void checkOrder(const Side& receiver, const Side& sender) const {
    for (const auto& [process, deliveries] : receiver.received)
      for (const auto& [from, indices] : deliveries) {
        // Indices per lane are increasing in send order: strictly increasing means in order and
        // no duplicates. Gaps are allowed only across a receiver restart (checked below).
        for (std::size_t i = 1; i < indices.size(); ++i)
          ASSERT_LT(indices[i - 1], indices[i])
              << receiver.id << " process " << process << " from " << sender.id << " process "
              << from.first << " lane " << from.second;
      }
  }

  // Every message a sender process that is still alive accepted reached some receiver process;
  // with no restarts of the receiver, exactly once and without gaps.
  void checkComplete(const Side& receiver, const Side& sender) const {
    const auto& accepted = sender.accepted.count(sender.process)
                               ? sender.accepted.at(sender.process)
                               : std::vector<std::pair<int, int>>{};
    std::map<int, std::multiset<int>> got;  // lane -> indices, over all receiver processes
    for (const auto& [process, deliveries] : receiver.received)
      for (const auto& [from, indices] : deliveries)
        if (from.first == sender.process) got[from.second].insert(indices.begin(), indices.end());
    for (const auto& [lane, index] : accepted) {
      auto n = got[lane].count(index);
      ASSERT_GE(n, 1u) << sender.id << " lane " << lane << " message " << index << " lost";
      if (receiver.process == 0) {
        ASSERT_EQ(n, 1u) << sender.id << " lane " << lane << " message " << index << " twice";
      }
    }
    EXPECT_EQ(sender.session->unacknowledged(), 0u) << sender.id;
  }

  static std::string dump(const std::vector<int>& recorded, const std::set<int>& accepted) {
    std::string s = "\nrecorded:";
    for (int i : recorded) s += " " + std::to_string(i);
    s += "\naccepted:";
    for (int i : accepted) s += " " + std::to_string(i);
    return s;
  }
  // With a store: every message whose outbox entry was committed is recorded once, in order.
  void checkJournal(const Side& receiver, const Side& sender) const {
    std::map<int, std::set<int>> accepted;
    for (const auto& [process, messages] : sender.accepted)
      for (const auto& [lane, index] : messages) accepted[lane].insert(index);
    for (int lane = 0; lane < kLanes; ++lane) {
      const auto it = receiver.journal.find(lane);
      const std::vector<int> recorded =
          it == receiver.journal.end() ? std::vector<int>{} : it->second;
      for (std::size_t i = 1; i < recorded.size(); ++i)
        ASSERT_LT(recorded[i - 1], recorded[i]) << sender.id << " lane " << lane;
      const std::set<int> got(recorded.begin(), recorded.end());
      for (int index : accepted[lane])
        ASSERT_TRUE(got.count(index)) << sender.id << " lane " << lane << " message " << index
                                      << " accepted and lost" << dump(recorded, accepted[lane]);
    }
    EXPECT_EQ(sender.session->unacknowledged(), 0u) << sender.id;
  }

  Side& a() { return a_; }
  Side& b() { return b_; }

 private:
  using Pipe = std::deque<Outgoing>;

  void start(Side& self, Side& peer) {
    SessionConfig c;
    c.ownId = self.id;
    c.peerId = peer.id;
    // A process with a store keeps its incarnation: its messages keep their numbers.
    if (!faults_.durable || self.incarnation == 0) self.incarnation = rng_() | 1;
    c.incarnation = self.incarnation;
    c.queue.maxMessages = 1 << 20;
    c.queue.maxBytes = 1 << 30;
    c.ackEvery = 1 + rng_() % 16;
    c.ackDelay = std::chrono::milliseconds(1 + rng_() % 400);
    c.peerKey = [&peer] { return &*peer.key; };
    Side* me = &self;
    Side* other = &peer;
    if (faults_.durable) {
      c.durableAcks = true;
      c.persist = [me](const IFMessage& m, const std::string&, int hops) {
        auto& store = me->store;
        store.outbox[store.nextKey] = {m, hops};
        return store.nextKey++;
      };
    }
    self.session =
        std::make_unique<Session>(std::move(c), [this, me, other](IFMessage&& m, int hops) {
          EXPECT_EQ(hops, 0);
          EXPECT_EQ(m.source, other->id);
          if (std::uniform_real_distribution<double>(0, 1)(rng_) < faults_.holdBack) {
            me->needsResume = true;
            return false;
          }
          auto from = std::make_pair(m.payload["p"].get<int>(), m.payload["l"].get<int>());
          me->received[me->process][from].push_back(m.payload["n"].get<int>());
          if (faults_.durable) {
            // The journal skips what an earlier process recorded (a resend of a delivery
            // that was not durable yet).
            auto& recorded = me->journal[from.second];
            const int n = m.payload["n"].get<int>();
            if (recorded.empty() || n > recorded.back()) recorded.push_back(n);
          }
          // Sometimes a reply, sent from inside the delivery: it carries the ack.
          if (rng_() % 8 == 0) send(*me);
          return true;
        });
    self.session->setBatchDelay(faults_.batchDelay);
    self.session->setCompression(faults_.compress, 200, 1);
    if (faults_.durable) {
      // A crash: what was written after the last commit is gone, and so are the commits whose
      // durability was never reported (they are written: the new process sees them).
      auto& store = self.store;
      store.outbox = store.committedOutbox;
      store.counters = store.committedCounters;
      store.syncing.clear();
      store.accepting.clear();
      std::vector<Session::Stored> stored;
      for (const auto& [key, e] : store.outbox) stored.push_back({e.message, e.hops, key});
      self.session->resume(store.counters, std::move(stored));
    }
  }

  // The store commits what was written so far; its durability is reported later (synced()).
  void commit(Side& side) {
    auto& store = side.store;
    store.committedOutbox = store.outbox;
    store.committedCounters = store.counters;
    auto point = side.session->commitPoint();
    point.peerIncarnation = store.counters.peerIncarnation;
    point.delivered = store.counters.delivered;
    store.syncing.push_back(point);
    auto& accepted = side.accepted[side.process];
    accepted.insert(accepted.end(), store.accepting.begin(), store.accepting.end());
    store.accepting.clear();
  }

  void synced(Side& side) {
    auto& store = side.store;
    if (store.syncing.empty()) return;
    auto point = store.syncing.front();
    store.syncing.pop_front();
    side.session->committed(now_, point);
    collect(side);
  }

  void restart(Side& side) {
    ++side.process;
    side.needsResume = false;
    Side& peer = &side == &a_ ? b_ : a_;
    start(side, peer);
  }

  void open(Side& self, Side& peer, Pipe& out) {
    Connection c;
    c.localFingerprint = self.fingerprint;
    c.remoteFingerprint = peer.fingerprint;
    c.helloSignature =
        self.identity.sign(helloSigningInput(self.id, self.incarnation, self.fingerprint, peer.id));
    c.channelFull = [&out](std::size_t pending) {
      std::size_t inFlight = pending;
      for (const auto& m : out) inFlight += m.bytes.size();
      return inFlight >= 4096;
    };
    self.session->open(std::move(c));
  }

  void connect() {
    a_.session->close();
    b_.session->close();
    toA_.clear();
    toB_.clear();
    open(a_, b_, toB_);
    collect(a_);
    open(b_, a_, toA_);
    collect(b_);
  }

  void send(Side& side) {
    if (sending_) return;  // one reply at a time keeps the recursion shallow
    sending_ = true;
    int lane = static_cast<int>(rng_() % kLanes);
    // With a store the numbering goes on over restarts (a sender resumes after what it
    // accepted), as payload process 0.
    const int process = faults_.durable ? 0 : side.process;
    int index = nextIndex_[{&side == &a_ ? 0 : 1, process}][lane]++;
    IFMessage m;
    m.id = side.id + "-" + std::to_string(side.process) + "-" + std::to_string(lane) + "-" +
           std::to_string(index);
    m.timestamp = "2026-12-05T10:00:00.000Z";
    m.source = side.id;
    m.destination = &side == &a_ ? "bob" : "alice";
    m.priority = static_cast<MessagePriority>(lane);
    m.payload = {
        {"p", process}, {"l", lane}, {"n", index}, {"text", std::string(rng_() % 600, 'x')}};
    side.session->enqueue(now_, m, 0);
    if (faults_.durable)
      side.store.accepting.push_back({lane, index});  // accepted once committed
    else
      side.accepted[side.process].push_back({lane, index});
    sending_ = false;
    collect(side);
  }

  void tick(Side& side) {
    if (auto due = side.session->nextDeadline(); due && *due <= now_) side.session->tick(now_);
    collect(side);
  }

  // Moves a side's output into the pipe toward its peer, through the faults.
  void collect(Side& side) {
    Pipe& out = &side == &a_ ? toB_ : toA_;
    for (auto& m : side.session->takeOutput()) {
      checkUrgency(m);
      std::uniform_real_distribution<double> u(0, 1);
      if (u(rng_) < faults_.loss) continue;
      if (u(rng_) < faults_.duplicate) out.push_back(m);
      if (!out.empty() && u(rng_) < faults_.reorder)
        out.insert(out.begin() + static_cast<long>(rng_() % out.size()), std::move(m));
      else
        out.push_back(std::move(m));
    }
    for (auto& e : side.session->takeEvents()) {
      if (auto* failed = std::get_if<AuthFailed>(&e))
        ADD_FAILURE() << "auth failed: " << failed->reason;
      // No store here ever loses what it committed.
      if (std::holds_alternative<PeerLostState>(e))
        ADD_FAILURE() << side.id << " reported that its peer lost acknowledged state";
      if (auto* released = std::get_if<Released>(&e))
        for (auto key : released->keys) side.store.outbox.erase(key);
    }
    // As LinkDelivery writes them: the counters after the outbox entries they release.
    if (faults_.durable) side.store.counters = side.session->counters();
  }

  // Hellos and Control/High frames pass the transport's send window; a batch, or another lane's
  // frame, waits for it.
  static void checkUrgency(const Outgoing& m) {
    if (m.binary) return;  // compressed: a batch, or a large urgent frame
    auto frames = decode(m.bytes);
    bool urgent = frames.size() == 1 && !std::holds_alternative<Malformed>(frames[0]);
    if (urgent) {
      if (const auto* msg = std::get_if<Msg>(&frames[0]))
        urgent = isUrgent(static_cast<MessagePriority>(msg->lane));
      else if (const auto* ack = std::get_if<Ack>(&frames[0]))
        urgent = isUrgent(static_cast<MessagePriority>(ack->lane));
    }
    EXPECT_EQ(m.urgent, urgent) << m.bytes.substr(0, 120);
  }

  void carry(Pipe& pipe, Side& to, bool one) {
    while (!pipe.empty()) {
      Outgoing m = std::move(pipe.front());
      pipe.pop_front();
      if (m.binary)
        to.session->receiveBinary(now_, std::as_bytes(std::span(m.bytes.data(), m.bytes.size())));
      else
        to.session->receive(now_, m.bytes);
      collect(to);
      // The channel drained a little: the sender's bufferedAmountLow.
      Side& from = &to == &a_ ? b_ : a_;
      from.session->pump(now_);
      collect(from);
      if (one) return;
    }
  }

  void carryAll() {
    for (int i = 0; i < 1000 && !(toA_.empty() && toB_.empty()); ++i) {
      carry(toB_, b_, false);
      carry(toA_, a_, false);
    }
  }

  std::mt19937_64 rng_;
  Faults faults_;
  Side a_, b_;
  Pipe toA_, toB_;
  Clock::time_point now_{};
  bool sending_ = false;
  std::map<std::pair<int, int>, std::array<int, kLanes>> nextIndex_;
};

struct Profile {
  const char* name;
  Faults faults;
  int schedules;
};

void run(const Profile& profile, std::uint64_t seed) {
  Harness h(seed, profile.faults);
  for (int i = 0; i < 300; ++i) h.step();
  h.checkOrder(h.a(), h.b());
  h.checkOrder(h.b(), h.a());
  h.settle();
  if (profile.faults.durable) {
    h.checkJournal(h.b(), h.a());
    h.checkJournal(h.a(), h.b());
    return;
  }
  h.checkOrder(h.a(), h.b());
  h.checkOrder(h.b(), h.a());
  h.checkComplete(h.b(), h.a());
  h.checkComplete(h.a(), h.b());
}

TEST(LinkSessionProperty, InOrderAtMostOnceAndCompleteOverRandomSchedules) {
  const Profile profiles[] = {
      {"clean", {}, 100},
      {"lossy pipe, reconnects",
       {.loss = 0.05, .reorder = 0.05, .duplicate = 0.05, .disconnect = 0.01},
       600},
      {"held back, batched, compressed",
       {.loss = 0.02,
        .reorder = 0.02,
        .duplicate = 0.02,
        .disconnect = 0.01,
        .holdBack = 0.05,
        .batchDelay = 50ms,
        .compress = true},
       600},
      {"restarts",
       {.loss = 0.02,
        .reorder = 0.02,
        .duplicate = 0.02,
        .disconnect = 0.01,
        .restart = 0.005,
        .holdBack = 0.02,
        .batchDelay = 200ms},
       600},
      {"crashes with a state store",
       {.loss = 0.02,
        .reorder = 0.02,
        .duplicate = 0.02,
        .disconnect = 0.01,
        .restart = 0.01,
        .holdBack = 0.02,
        .durable = true},
       600},
  };
  for (const auto& profile : profiles)
    for (int seed = 1; seed <= profile.schedules; ++seed) {
      run(profile, static_cast<std::uint64_t>(seed));
      if (::testing::Test::HasFailure()) {
        ADD_FAILURE() << "failing schedule: profile \"" << profile.name << "\", seed " << seed;
        return;
      }
    }
}

}  // namespace
}  // namespace ifmesh::detail::link
