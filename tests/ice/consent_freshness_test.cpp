// Consent freshness (src/ice/consent_freshness.hpp): requests every 4-6 s by default, consent
// renewed only by answers, and lost 30 s after the last one.
#include "ice/consent_freshness.hpp"

#include <gtest/gtest.h>

namespace ifmesh::ice {
namespace {

using namespace std::chrono_literals;
using Clock = ConsentFreshness::Clock;

TEST(IceConsentFreshness, AsksEveryIntervalRandomizedToWithinAFifthOfIt) {
  const Clock::time_point t0{};
  double next = 0;
  ConsentFreshness consent(t0, {}, [&] { return next; });
  EXPECT_EQ(consent.nextRequest(), t0 + 4s);  // 0.8 x 5 s
  next = 0.5;
  consent.requestSent(t0 + 4s);
  EXPECT_EQ(consent.nextRequest(), t0 + 9s);  // 4 s + 1.0 x 5 s
  next = 0.999999;
  consent.requestSent(t0 + 9s);
  EXPECT_GT(consent.nextRequest(), t0 + 14999ms);
  EXPECT_LE(consent.nextRequest(), t0 + 15s);
  // A random source out of range still gives 0.8-1.2 times the interval.
  next = 7;
  consent.requestSent(t0 + 20s);
  EXPECT_EQ(consent.nextRequest(), t0 + 26s);
}

TEST(IceConsentFreshness, OnlyAnswersRenewConsentWhichEndsAfterTheTimeout) {
  const Clock::time_point t0{};
  ConsentFreshness consent(t0, {1s, 3s}, [] { return 0.5; });
  EXPECT_EQ(consent.expiresAt(), t0 + 3s);
  consent.requestSent(t0 + 1s);
  consent.requestSent(t0 + 2s);
  EXPECT_FALSE(consent.expired(t0 + 2999ms));
  EXPECT_TRUE(consent.expired(t0 + 3s));  // requests alone renew nothing
  consent.renewed(t0 + 2500ms);
  EXPECT_FALSE(consent.expired(t0 + 5s));
  EXPECT_TRUE(consent.expired(t0 + 5500ms));
  // An answer that arrives late (reordered) never moves consent back.
  consent.renewed(t0 + 1s);
  EXPECT_EQ(consent.expiresAt(), t0 + 5500ms);
  EXPECT_EQ(consent.nextDeadline(), std::min(consent.nextRequest(), consent.expiresAt()));
}

}  // namespace
}  // namespace ifmesh::ice
