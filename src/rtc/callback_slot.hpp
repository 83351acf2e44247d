#pragma once
// A user callback that may be replaced from any thread while the I/O thread invokes it. The call
// copies the function out under the lock so a callback may replace itself or call back into ifmesh.
#include <functional>
#include <mutex>
#include <utility>

namespace ifmesh::rtc {

template <typename... Args>
class CallbackSlot {
 public:
  void set(std::function<void(Args...)> fn) {
    std::lock_guard lock(mutex_);
    fn_ = std::move(fn);
  }
  explicit operator bool() const {
    std::lock_guard lock(mutex_);
    return static_cast<bool>(fn_);
  }
  template <typename... CallArgs>
  void operator()(CallArgs&&... args) const {
    std::function<void(Args...)> fn;
    {
      std::lock_guard lock(mutex_);
      fn = fn_;
    }
    if (fn) fn(std::forward<CallArgs>(args)...);
  }

 private:
  mutable std::mutex mutex_;
  std::function<void(Args...)> fn_;
};

}  // namespace ifmesh::rtc
