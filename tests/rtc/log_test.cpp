// The library's own diagnostics (include/ifmesh/log.hpp): what it logs reaches the handler set
// with setLogHandler, libnice's GLib messages come the same way, and the default handler writes
// one sanitised line to stderr.
#include <gtest/gtest.h>

#include <glib.h>
#include <nice/agent.h>

#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "ifmesh/log.hpp"
#include "rtc/log.hpp"
#include "support/pc_pair.hpp"

namespace ifmesh {
namespace {

struct Logged {
  LogLevel level;
  std::string component, message;
};

// Records what the library logs while it lives; the default handler is back afterwards.
class LogCapture {
 public:
  explicit LogCapture(LogLevel minimum = LogLevel::Debug) {
    setLogHandler(minimum, [this](LogLevel l, std::string_view component, std::string_view text) {
      std::lock_guard lock(mutex_);
      all_.push_back({l, std::string(component), std::string(text)});
    });
  }
  ~LogCapture() { setLogHandler(LogLevel::Warning, nullptr); }
  // The messages of `component` containing `text`.
  std::vector<Logged> find(const std::string& component, const std::string& text) {
    std::lock_guard lock(mutex_);
    std::vector<Logged> out;
    for (const auto& l : all_)
      if (l.component == component && l.message.find(text) != std::string::npos) out.push_back(l);
    return out;
  }

 private:
  std::mutex mutex_;
  std::vector<Logged> all_;
};

// An offer whose SDP carries one candidate line no parser accepts.
Description offerWithBadCandidate(PeerConnection& offerer) {
  Description offer = offerer.createOffer();
  offer.sdp += "a=candidate:not a candidate\r\n";
  return offer;
}

TEST(Log, ASkippedMalformedCandidateReachesTheHandler) {
  LogCapture capture;
  PeerConnection offerer(test::loopbackConfig()), answerer(test::loopbackConfig());
  answerer.setRemoteDescription(offerWithBadCandidate(offerer));  // the rest of it is good
  auto found = capture.find("rtc", "skipped a remote candidate");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].level, LogLevel::Warning);
  EXPECT_NO_THROW(answerer.createAnswer());
}

TEST(Log, MessagesBelowTheMinimumAreDropped) {
  LogCapture capture(LogLevel::Error);
  PeerConnection offerer(test::loopbackConfig()), answerer(test::loopbackConfig());
  answerer.setRemoteDescription(offerWithBadCandidate(offerer));
  EXPECT_TRUE(capture.find("rtc", "skipped a remote candidate").empty());
  EXPECT_FALSE(detail::logEnabled(LogLevel::Warning));
  EXPECT_TRUE(detail::logEnabled(LogLevel::Error));
}

TEST(Log, LibniceMessagesReachTheHandlerAndOtherGlibDomainsStayTheHosts) {
  PeerConnection pc(test::loopbackConfig());  // starts the runtime, which routes libnice's domains
  LogCapture capture;
  // A misuse libnice reports itself: g_return_val_if_fail logs a critical in its domain.
  NiceCandidate *local = nullptr, *remote = nullptr;
  EXPECT_FALSE(nice_agent_get_selected_pair(nullptr, 1, 1, &local, &remote));
  auto found = capture.find("libnice", "nice_agent_get_selected_pair");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].level, LogLevel::Error);
  // The process's default GLib handler is untouched.
  GLogFunc previous = g_log_set_default_handler(g_log_default_handler, nullptr);
  EXPECT_EQ(previous, g_log_default_handler);
}

TEST(Log, TheDefaultHandlerWritesOneSanitisedLine) {
  setLogHandler(LogLevel::Warning, nullptr);
  testing::internal::CaptureStderr();
  detail::log(LogLevel::Info, "test", "below the default threshold");
  detail::log(LogLevel::Warning, "test", "two\nlines\x1b[31m");
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(err, "ifmesh warning test: two?lines?[31m\n");
}

TEST(Log, AHandlerMayThrowOrReplaceItself) {
  setLogHandler(LogLevel::Debug, [](LogLevel, std::string_view, std::string_view) {
    throw std::runtime_error("a careless handler");
  });
  EXPECT_NO_THROW(detail::log(LogLevel::Error, "test", "dropped"));
  int calls = 0;
  setLogHandler(LogLevel::Debug, [&calls](LogLevel, std::string_view, std::string_view) {
    ++calls;
    setLogHandler(LogLevel::Warning, nullptr);  // from inside the handler: no deadlock
  });
  detail::log(LogLevel::Error, "test", "once");
  testing::internal::CaptureStderr();
  detail::log(LogLevel::Error, "test", "to stderr again");
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "ifmesh error test: to stderr again\n");
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace ifmesh
