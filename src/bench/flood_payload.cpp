#include "bench/flood_payload.hpp"

#include <array>
#include <cstdio>
#include <random>
#include <string>

namespace ifmesh::bench {

namespace {

constexpr std::array kWords = {
    "the",       "a",          "of",         "to",         "and",        "in",        "for",
    "on",        "with",       "is",         "was",        "from",       "by",        "at",
    "this",      "that",       "after",      "before",     "while",      "during",    "agent",
    "request",   "response",   "report",     "summary",    "analysis",   "result",    "query",
    "document",  "contract",   "invoice",    "payment",    "customer",   "account",   "order",
    "shipment",  "warehouse",  "inventory",  "forecast",   "budget",     "quarter",   "revenue",
    "expense",   "risk",       "compliance", "review",     "approval",   "deadline",  "meeting",
    "schedule",  "team",       "project",    "milestone",  "release",    "deploy",    "service",
    "latency",   "error",      "timeout",    "retry",      "cache",      "database",  "index",
    "search",    "model",      "prompt",     "context",    "token",      "embedding", "vector",
    "score",     "threshold",  "anomaly",    "alert",      "incident",   "ticket",    "status",
    "pending",   "completed",  "failed",     "running",    "queued",     "escalated", "resolved",
    "high",      "low",        "medium",     "critical",   "minor",      "major",     "urgent",
    "north",     "south",      "east",       "west",       "central",    "region",    "europe",
    "asia",      "america",    "legal",      "finance",    "sales",      "support",   "research",
    "marketing", "operations", "security",   "privacy",    "policy",     "clause",    "section",
    "paragraph", "table",      "chart",      "figure",     "note",       "comment",   "draft",
    "final",     "version",    "update",     "change",     "increase",   "decrease",  "stable",
    "trend",     "weekly",     "monthly",    "daily",      "hourly",     "estimate",  "actual",
    "variance",  "supplier",   "vendor",     "partner",    "client",     "user",      "session",
    "login",     "access",     "denied",     "granted",    "verified",   "signed",    "uploaded",
    "processed", "extracted",  "classified", "summarized", "translated", "flagged",   "archived"};

constexpr std::array kKinds = {"observation", "metric",   "finding", "task_update",
                               "tool_call",   "citation", "alert",   "handoff"};
constexpr std::array kAgents = {"agent-finance", "agent-legal",   "agent-research",
                                "agent-support", "agent-planner", "agent-ops"};
constexpr std::array kUnits = {"ms", "bytes", "requests", "usd", "percent", "items"};
constexpr std::array kOptionalFields = {"region",     "owner",    "parent_id", "retries",
                                        "latency_ms", "currency", "language",  "confidence"};

class Generator {
 public:
  explicit Generator(std::uint64_t seed) : rng_(seed) {}

  std::size_t below(std::size_t n) { return static_cast<std::size_t>(rng_() % n); }
  // Common words far more often than rare ones, as in text.
  const char* word() {
    std::size_t a = below(kWords.size()), b = below(kWords.size());
    return kWords[std::min(a, b)];
  }
  std::string words(std::size_t n) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) {
      if (i) s += ' ';
      s += word();
    }
    return s;
  }
  std::string hex(std::size_t digits) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string s;
    for (std::size_t i = 0; i < digits; ++i) s += kHex[below(16)];
    return s;
  }
  double decimal(double scale) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(below(1000000)) / 1e6 * scale);
    return std::stod(buf);
  }

  nlohmann::json record(std::uint64_t index) {
    nlohmann::json r = {
        {"id", hex(8) + "-" + hex(4) + "-" + hex(12)},
        {"kind", kKinds[below(kKinds.size())]},
        {"source", kAgents[below(kAgents.size())]},
        {"ts", 1764979200000 + index * 250 + below(250)},
        {"title", words(2 + below(5))},
        {"text", words(8 + below(30))},
        {"tags", {word(), word()}},
        {"value", {{"amount", decimal(10000)}, {"unit", kUnits[below(kUnits.size())]}}},
        {"ok", below(5) != 0}};
    for (const char* field : kOptionalFields)
      if (below(3) == 0) r[field] = below(2) ? nlohmann::json(word()) : nlohmann::json(below(5000));
    return r;
  }

 private:
  std::mt19937_64 rng_;
};

}  // namespace

nlohmann::json floodPayload(std::uint64_t seed, std::size_t bytes) {
  Generator g(seed);
  nlohmann::json records = nlohmann::json::array();
  std::size_t size = 0;
  nlohmann::json out = {{"task", "task-" + g.hex(10)}, {"from", kAgents[g.below(kAgents.size())]}};
  std::size_t overhead = out.dump().size() + 14;  // ,"records":[]
  for (std::uint64_t i = 0; overhead + size < bytes; ++i) {
    auto r = g.record(seed * 1000 + i);
    size += r.dump().size() + 1;
    records.push_back(std::move(r));
  }
  out["records"] = std::move(records);
  // The estimate above leaves out the separators of nested values; top up to the size asked for.
  for (std::uint64_t i = out["records"].size(); out.dump().size() < bytes; ++i)
    out["records"].push_back(g.record(seed * 1000 + i));
  return out;
}

}  // namespace ifmesh::bench
