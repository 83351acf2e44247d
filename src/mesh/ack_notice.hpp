#pragma once
// Who waits for a local message's acknowledgement by its next hop. Called at most once, on the
// agent's I/O thread and from inside the link's processing: with null when the neighbour
// acknowledged the message, or with Error(Undeliverable) when it never will (dropped, or handed
// to onUndeliverable). It must not call into the agent; one that runs a caller's code defers it
// (AgentCore::defer).
#include <exception>
#include <functional>
#include <future>
#include <memory>

namespace ifmesh::detail {

using AckNotice = std::function<void(std::exception_ptr error)>;

// Fulfils or fails `promise` (the futures of Agent::sendAsync's receipt).
inline AckNotice noticeFor(std::shared_ptr<std::promise<void>> promise) {
  return [promise = std::move(promise)](std::exception_ptr error) {
    if (error)
      promise->set_exception(std::move(error));
    else
      promise->set_value();
  };
}

// Calls `notice` once, if it is set, and leaves it empty.
inline void tell(AckNotice& notice, std::exception_ptr error) {
  if (auto n = std::exchange(notice, nullptr)) n(std::move(error));
}

}  // namespace ifmesh::detail
