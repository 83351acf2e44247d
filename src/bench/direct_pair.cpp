#include "bench/direct_pair.hpp"

#include <future>
#include <stdexcept>
#include <thread>

namespace ifmesh::bench {

DirectPair::DirectPair(const RtcConfiguration& config, const std::string& label,
                       std::chrono::milliseconds timeout)
    : offerer_(std::make_unique<PeerConnection>(config)),
      answerer_(std::make_unique<PeerConnection>(config)) {
  auto remotePromise = std::make_shared<std::promise<std::shared_ptr<DataChannel>>>();
  auto remoteFuture = remotePromise->get_future();
  offerer_->onLocalCandidate(
      [a = answerer_.get()](const Candidate& c) { a->addRemoteCandidate(c); });
  answerer_->onLocalCandidate(
      [o = offerer_.get()](const Candidate& c) { o->addRemoteCandidate(c); });
  answerer_->onDataChannel([remotePromise](std::shared_ptr<DataChannel> ch) {
    try {
      remotePromise->set_value(std::move(ch));
    } catch (const std::future_error&) {
    }
  });
  local_ = offerer_->createDataChannel(label);
  answerer_->setRemoteDescription(offerer_->createOffer());
  offerer_->setRemoteDescription(answerer_->createAnswer());
  auto deadline = std::chrono::steady_clock::now() + timeout;
  if (remoteFuture.wait_until(deadline) != std::future_status::ready)
    throw std::runtime_error("connection was not established within the timeout (state " +
                             std::string(toString(offerer_->state())) + ")");
  remote_ = remoteFuture.get();
  while (!local_->isOpen() || !remote_->isOpen()) {
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("channel did not open within the timeout");
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

DirectPair::~DirectPair() {
  // Unhook the cross-references before either side goes away.
  offerer_->onLocalCandidate(nullptr);
  answerer_->onLocalCandidate(nullptr);
  answerer_->onDataChannel(nullptr);
  offerer_->stats();  // a loop round trip: no callback is still running
}

}  // namespace ifmesh::bench
