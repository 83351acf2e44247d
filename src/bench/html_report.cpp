#include "bench/html_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <stdexcept>

#include "bench/svg_chart.hpp"

namespace ifmesh::bench {

namespace {

const char* const kBlue = "#0969da";
const char* const kGrey = "#6e7781";
const char* const kOrange = "#bc4c00";
const char* const kPurple = "#8250df";

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// A figure with the precision it deserves: thousands grouped, three significant digits below.
std::string figure(double v) {
  if (std::abs(v) >= 1000 || v == std::round(v)) return tickLabel(std::round(v));
  if (std::abs(v) >= 100) return fmt("%.0f", v);
  if (std::abs(v) >= 10) return fmt("%.1f", v);
  return fmt("%.3g", v);
}

// A latency given in µs, in µs below 10 ms and in ms above.
std::string latency(double us) {
  return us < 10000 ? figure(us) + " \u00b5s" : figure(us / 1000) + " ms";
}

std::string tag(const std::string& name, const std::string& body, const std::string& attrs = "") {
  return "<" + name + (attrs.empty() ? "" : " " + attrs) + ">" + body + "</" + name + ">";
}

std::string td(const std::string& text, bool left = false) {
  return tag("td", escapeXml(text), left ? "class='l'" : "");
}

std::string th(const std::string& text) {
  return tag("th", escapeXml(text));
}

// A target's measured value with its unit; yes/no for the targets that are conditions.
std::string measured(const Target& t) {
  std::string unit = t.unit;
  if (!unit.empty() && unit.front() == ' ') unit.erase(0, 1);
  if (unit.empty() && !t.atMost && t.limit == 1 && (t.actual == 0 || t.actual == 1))
    return t.actual == 1 ? "yes" : "no";
  if (unit == "us") return latency(t.actual);
  if (unit == "ms" && t.actual < 1) return latency(t.actual * 1000);
  if (unit.rfind("x", 0) == 0) return fmt("%.2f", t.actual) + unit;
  return figure(t.actual) + (unit.empty() ? "" : " " + unit);
}

bool isMesh(const ScenarioResult& r) {
  return r.extra.contains("mesh");
}

bool isSoak(const ScenarioResult& r) {
  return r.extra.contains("soak");
}

bool isPair(const ScenarioResult& r) {
  return !isMesh(r) && !isSoak(r) && r.rttUs.samples > 0;
}

std::string description(const ScenarioResult& r) {
  const std::string& s = r.scenario;
  if (s == "p2p")
    return "Two PeerConnections in one process on 127.0.0.1, each on its own I/O thread (coturn "
           "as the STUN server when installed). Echo of 64-byte messages, one outstanding, in "
           "blocks alternating with the same ping-pong over two plain UDP sockets (the floor); "
           "then 16 KiB messages under backpressure for 3 s, 100-byte messages for 2 s, and the "
           "time from a new PeerConnection to an open channel on both sides.";
  if (s == "turn")
    return "The p2p measurements with both sides forced through a local coturn relay, and two "
           "floors: plain UDP directly, and plain UDP through the same coturn (each end its own "
           "allocation, ChannelData): the path the relayed packets take, without the stack.";
  if (isMesh(r)) {
    const auto& m = r.extra["mesh"];
    return std::to_string(m["agents"].get<std::size_t>()) +
           " agents in one process, linked through an embedded signaling server on 127.0.0.1 (" +
           m.value("topology", std::string("full mesh")) +
           "). Every agent keeps 4 pings in flight, round-robin over its peers; a pong's arrival "
           "sends the next ping. Then the same echo over plain UDP sockets on the links the mesh "
           "formed, one epoll thread per I/O thread (the floor).";
  }
  if (s == "constrained")
    return "Two network namespaces joined by a veth pair with a 4 Mbit/s tbf; a sender agent "
           "floods a receiver agent (separate processes) with 120 messages of 32 KiB while it "
           "sends small control messages every 100 ms, once with the bandwidth adapter and once "
           "without.";
  if (isSoak(r))
    return "One DataChannel pair, after 20 connections opened and closed: transfers of 2.5 s of "
           "16 KiB messages under backpressure and 0.5 s of 100-byte messages, alternating "
           "direction. A stall is a transfer that makes no progress for 15 s with data "
           "outstanding.";
  return "";
}

// --- the summary and the run ---------------------------------------------------------------

std::string summary(const std::vector<ScenarioResult>& results, const RunInfo& run) {
  std::size_t total = 0, passed = 0;
  std::string rows;
  for (const auto& r : results)
    for (const auto& t : r.targets) {
      ++total;
      passed += t.pass() ? 1 : 0;
      rows +=
          tag("tr",
              td(r.scenario, true) + td(t.name, true) + td(measured(t)) +
                  td(t.floor.empty() ? "\u2014" : t.floor, true) +
                  tag("td", t.pass() ? "pass" : "fail", t.pass() ? "class='pass'" : "class='fail'"),
              t.pass() ? "" : "class='failrow'");
    }
  std::string html = "<h2 id='summary'>Summary</h2><p class='verdict'>" + std::to_string(passed) +
                     " of " + std::to_string(total) + " targets pass";
  if (!run.failed.empty())
    html += "; " + std::to_string(run.failed.size()) + " scenario(s) failed to run";
  if (!run.skipped.empty())
    html += "; " + std::to_string(run.skipped.size()) + " scenario(s) skipped";
  html += ".</p>";
  std::string notMet;
  for (const auto& r : results)
    for (const auto& t : r.targets)
      if (!t.pass())
        notMet += tag("li", escapeXml(r.scenario + ": " + t.name + " \u2014 measured " +
                                      measured(t) + (t.floor.empty() ? "" : "; " + t.floor)));
  if (!notMet.empty()) html += "<p>Not met:</p><ul class='notmet'>" + notMet + "</ul>";
  html += "<table class='summary'><tr>" + th("scenario") + th("target") + th("measured") +
          th("floor of the same run") + th("result") + "</tr>" + rows + "</table>";
  html +=
      "<p class='note'>A floor is the same traffic over plain UDP sockets on this machine in "
      "the same run: what the kernel alone costs, and a bound no stack on this machine can "
      "beat.</p>";
  if (!run.failed.empty() || !run.skipped.empty()) {
    html += "<table><tr>" + th("scenario") + th("not measured") + "</tr>";
    for (const auto& [name, why] : run.failed)
      html += tag("tr", td(name, true) + tag("td", "failed: " + escapeXml(why), "class='l fail'"));
    for (const auto& [name, why] : run.skipped)
      html += tag("tr", td(name, true) + td("skipped: " + why, true));
    html += "</table>";
  }
  return html;
}

std::string runTable(const RunInfo& run) {
  auto row = [](const std::string& k, const std::string& v) {
    return tag("tr", tag("th", escapeXml(k), "class='l'") + tag("td", escapeXml(v), "class='l'"));
  };
  return "<h2 id='run'>Run</h2><table class='run'>" + row("date", run.date) +
         row("duration", fmt("%.0f s", run.seconds)) +
         tag("tr", tag("th", "command", "class='l'") +
                       tag("td", tag("code", escapeXml(run.command)), "class='l'")) +
         row("commit", run.commit) + row("build", run.buildType) + row("CPU", run.cpu) +
         row("cores", std::to_string(run.cores)) + row("memory", run.memory) +
         row("kernel", run.kernel) + "</table>";
}

// --- figures by kind of scenario -------------------------------------------------------------

std::string pairTable(const std::vector<ScenarioResult>& results) {
  std::string rows;
  for (const auto& r : results) {
    if (!isPair(r)) continue;
    std::string setup = r.setupMs.samples
                            ? fmt("%.2f", r.setupMs.p50) + " / " + fmt("%.2f", r.setupMs.p95) +
                                  " ms (" + std::to_string(r.setupMs.samples) + ")"
                            : "\u2014";
    std::string pair = "\u2014";
    if (r.extra.contains("selected_pair"))
      pair = r.extra["selected_pair"]["local_type"].get<std::string>() + " / " +
             r.extra["selected_pair"]["remote_type"].get<std::string>();
    rows +=
        tag("tr", td(r.scenario, true) + td(figure(static_cast<double>(r.rttUs.samples))) +
                      td(latency(r.rttUs.p50)) + td(latency(r.rttUs.p95)) +
                      td(latency(r.rttUs.p99)) + td(latency(r.rttUs.max)) +
                      td(r.floorUs.samples ? latency(r.floorUs.p50) + " / " + latency(r.floorUs.p99)
                                           : "\u2014") +
                      td(figure(r.echoRoundTripsPerS)) +
                      td(r.bulkMbitPerS > 0 ? figure(r.bulkMbitPerS) : "\u2014") +
                      td(r.smallMsgsPerS > 0 ? figure(r.smallMsgsPerS) : "\u2014") + td(setup) +
                      td(pair));
  }
  if (rows.empty()) return "";
  return "<h2 id='pairs'>Two agents</h2><table><tr>" + th("scenario") + th("echo samples") +
         th("RTT p50") + th("RTT p95") + th("RTT p99") + th("RTT max") + th("UDP floor p50 / p99") +
         th("echo round trips/s") + th("bulk Mbit/s (16 KiB)") + th("msg/s (100 B)") +
         th("setup p50 / p95 (connections)") + th("candidate pair") + "</tr>" + rows + "</table>";
}

struct MeshPoint {
  std::string scenario, topology;
  double connections, roundTrips, floorRoundTrips, p95Us, floorP95Us, establishS, rssMiB;
};

std::vector<MeshPoint> meshPoints(const std::vector<ScenarioResult>& results) {
  std::vector<MeshPoint> pts;
  for (const auto& r : results) {
    if (!isMesh(r)) continue;
    const auto& m = r.extra["mesh"];
    bool floor = m.contains("udp_floor");
    pts.push_back({r.scenario, m.value("topology", std::string("full mesh")),
                   m["connections"].get<double>(), r.echoRoundTripsPerS,
                   floor ? m["udp_floor"]["round_trips_per_s"].get<double>() : 0, r.rttUs.p95,
                   floor ? r.floorUs.p95 : 0, m["establish_ms"].get<double>() / 1000,
                   m["rss_bytes_peak"].get<double>() / (1024 * 1024)});
  }
  std::sort(pts.begin(), pts.end(),
            [](const auto& a, const auto& b) { return a.connections < b.connections; });
  return pts;
}

std::string ms(double us) {
  return fmt(us < 10000 ? "%.2f" : "%.0f", us / 1000);
}

std::string meshTable(const std::vector<ScenarioResult>& results) {
  std::string rows, signatures;
  for (const auto& r : results) {
    if (!isMesh(r)) continue;
    const auto& m = r.extra["mesh"];
    bool floor = m.contains("udp_floor");
    double perConnection = m["rss_bytes_per_connection"].get<double>() / 1024;
    rows += tag(
        "tr",
        td(r.scenario, true) + td(m.value("topology", std::string("full mesh")), true) +
            td(figure(m["agents"].get<double>())) + td(figure(m["connections"].get<double>())) +
            td(figure(m["establish_ms"].get<double>() / 1000) + " s") +
            td(figure(r.echoRoundTripsPerS)) +
            td(floor ? figure(m["udp_floor"]["round_trips_per_s"].get<double>()) + " (" +
                           fmt("%.1f %%", m["udp_floor"]["mesh_share_percent"].get<double>()) + ")"
                     : "\u2014") +
            td(ms(r.rttUs.p50) + " / " + ms(r.rttUs.p95) + " / " + ms(r.rttUs.p99)) +
            td(floor ? ms(r.floorUs.p95) : "\u2014") +
            td(figure(m["cpu_us_per_round_trip"].get<double>()) + " \u00b5s") +
            td(figure(m["rss_bytes_peak"].get<double>() / (1024 * 1024)) + " MiB") +
            td(figure(perConnection) + " KiB") + td(figure(m["threads"].get<double>())));
    if (signatures.empty() && !r.notes.empty()) signatures = r.notes.front();
  }
  if (rows.empty()) return "";
  return "<h2 id='agents'>Agents</h2><table><tr>" + th("scenario") + th("topology") + th("agents") +
         th("connections") + th("established in") + th("round trips/s") +
         th("UDP floor round trips/s (share reached)") + th("RTT p50 / p95 / p99 (ms)") +
         th("UDP floor p95 (ms)") + th("CPU per round trip") + th("peak RSS") +
         th("RSS per connection") + th("threads") + "</tr>" + rows +
         "</table><p class='note'>Messages: " + escapeXml(signatures) +
         ". RSS per connection is (RSS once established \u2212 RSS before the agents started) / "
         "connections: it includes the agents themselves, and it is negative when the allocator "
         "returned more memory meanwhile than the connections took.</p>";
}

// Mesh charts: every topology its own labelled series, so that different layouts of the same
// agent count never join into one line.
std::string meshCharts(const std::vector<ScenarioResult>& results) {
  auto pts = meshPoints(results);
  std::map<double, int> counts;
  for (const auto& p : pts) counts[p.connections]++;
  if (counts.size() < 2) return "";
  std::map<std::string, std::vector<MeshPoint>> byTopology;
  for (const auto& p : pts) byTopology[p.topology].push_back(p);
  auto styleOf = [](const std::string& topology) -> std::pair<const char*, Marker> {
    if (topology == "hub and spoke") return {kOrange, Marker::Diamond};
    if (topology == "partial mesh") return {kPurple, Marker::Square};
    return {kBlue, Marker::Circle};
  };
  auto chart = [&](const std::string& title, const std::string& yLabel, auto value, auto floor) {
    Chart c;
    c.title = title;
    c.width = 560;
    c.height = 330;
    c.x = {"connections (log scale)", true};
    c.y = {yLabel, true};
    for (const auto& [topology, group] : byTopology) {
      auto [color, marker] = styleOf(topology);
      ChartSeries s{"ifmesh, " + topology, color, {}, {}, group.size() > 1, false, marker};
      ChartSeries f{"UDP floor, " + topology, kGrey, {}, {}, group.size() > 1, true, marker};
      for (const auto& p : group) {
        s.points.emplace_back(p.connections, value(p));
        s.pointLabels.push_back(p.scenario);
        if (floor(p) > 0) f.points.emplace_back(p.connections, floor(p));
      }
      c.series.push_back(s);
      if (!f.points.empty()) c.series.push_back(f);
    }
    return "<figure>" + renderSvg(c) + "</figure>";
  };
  auto none = [](const MeshPoint&) { return 0.0; };
  return "<h3>Scaling</h3><div class='grid'>" +
         chart(
             "Echo round trips per second", "round trips/s (log scale)",
             [](const MeshPoint& p) { return p.roundTrips; },
             [](const MeshPoint& p) { return p.floorRoundTrips; }) +
         chart(
             "Echo RTT p95", "RTT p95 (ms, log scale)",
             [](const MeshPoint& p) { return p.p95Us / 1000; },
             [](const MeshPoint& p) { return p.floorP95Us / 1000; }) +
         chart(
             "Time until every link is up", "established in (s, log scale)",
             [](const MeshPoint& p) { return p.establishS; }, none) +
         chart(
             "Peak resident memory", "RSS (MiB, log scale)",
             [](const MeshPoint& p) { return p.rssMiB; }, none) +
         "</div>";
}

std::string soakTable(const std::vector<ScenarioResult>& results) {
  std::string rows;
  for (const auto& r : results) {
    if (!isSoak(r)) continue;
    const auto& s = r.extra["soak"];
    rows += tag("tr", td(r.scenario, true) + td(figure(s["transfers"].get<double>())) +
                          td(figure(s["stalls"].get<double>())) +
                          td(figure(s["bulk_mbit_per_s"]["min"].get<double>()) + " / " +
                             figure(s["bulk_mbit_per_s"]["p50"].get<double>())) +
                          td(figure(s["small_msgs_per_s"]["p50"].get<double>())) +
                          td(figure(s["udp_receive_buffer_drops"].get<double>())) +
                          td(figure(s["sctp_data_chunks_retransmitted"].get<double>())) +
                          td(figure(s["sctp_retransmission_timeouts"].get<double>())));
  }
  if (rows.empty()) return "";
  return "<h2 id='soak'>Soak</h2><table><tr>" + th("scenario") + th("transfers") + th("stalls") +
         th("bulk Mbit/s, min / p50") + th("msg/s (100 B), p50") + th("UDP receive-buffer drops") +
         th("DATA chunks retransmitted") + th("T3 timeouts") + "</tr>" + rows + "</table>";
}

// --- each scenario's latency distribution -----------------------------------------------------

// The CDF's points: evenly spaced ranks plus the slowest 1 % in detail, and the maximum itself.
std::vector<std::pair<double, double>> cdfPoints(std::vector<double> samples, double scale) {
  std::sort(samples.begin(), samples.end());
  std::vector<std::pair<double, double>> pts;
  std::size_t n = samples.size();
  if (n == 0) return pts;
  std::vector<std::size_t> ranks;
  for (std::size_t i = 0; i < 400; ++i) ranks.push_back(i * n / 400);
  std::size_t tail = n - std::max<std::size_t>(1, n / 100);
  for (std::size_t i = 0; i < 100; ++i) ranks.push_back(tail + i * (n - tail) / 100);
  ranks.push_back(n - 1);
  std::sort(ranks.begin(), ranks.end());
  ranks.erase(std::unique(ranks.begin(), ranks.end()), ranks.end());
  for (auto i : ranks)
    pts.emplace_back(samples[i] / scale,
                     100.0 * static_cast<double>(i + 1) / static_cast<double>(n));
  return pts;
}

std::string latencyChart(const ScenarioResult& r) {
  if (r.rttSamplesUs.empty()) return "";
  double top = r.rttUs.max;
  for (const auto& f : r.floorSamples)
    for (double v : f.us) top = std::max(top, v);
  bool inMs = top >= 10000;
  double scale = inMs ? 1000 : 1;
  const char* unit = inMs ? "ms" : "\u00b5s";
  Chart c;
  c.title = "Echo RTT distribution: " + r.title;
  c.width = 900;
  c.height = 360;
  c.x = {std::string("round-trip time (") + unit + ", log scale)", true};
  c.y = {"round trips at or below (%)", false, 0, 100, "%"};
  c.series.push_back(
      {"ifmesh echo (" + figure(static_cast<double>(r.rttUs.samples)) + " round trips)", kBlue,
       cdfPoints(r.rttSamplesUs, scale)});
  const char* const floorColors[] = {kGrey, kOrange, kPurple};
  for (std::size_t i = 0; i < r.floorSamples.size(); ++i) {
    const auto& f = r.floorSamples[i];
    if (f.us.empty()) continue;
    c.series.push_back(
        {f.name + ", same run (" + figure(static_cast<double>(f.us.size())) + " round trips)",
         floorColors[std::min<std::size_t>(i, 2)],
         cdfPoints(f.us, scale),
         {},
         true,
         true});
  }
  auto mark = [&](const char* name, double us) {
    c.marks.push_back({us / scale, std::string(name) + " " + latency(us), kBlue});
  };
  mark("p50", r.rttUs.p50);
  mark("p95", r.rttUs.p95);
  mark("p99", r.rttUs.p99);
  mark("max", r.rttUs.max);
  return "<figure>" + renderSvg(c) + "</figure>";
}

std::string scenarioSection(const ScenarioResult& r) {
  std::string html = "<section><h3 id='s-" + escapeXml(r.scenario) + "'>" + escapeXml(r.title) +
                     " <span class='name'>" + escapeXml(r.scenario) + "</span></h3>";
  std::string what = description(r);
  if (!what.empty()) html += "<p>" + escapeXml(what) + "</p>";
  html += latencyChart(r);
  // An agent scenario's notes repeat figures of the agents' table; the others carry figures
  // found nowhere else.
  if (!isMesh(r) && !r.notes.empty()) {
    html += "<ul class='notes'>";
    for (const auto& n : r.notes) html += tag("li", escapeXml(n));
    html += "</ul>";
  }
  return html + "</section>";
}

}  // namespace

std::string htmlReport(const std::vector<ScenarioResult>& results, const RunInfo& run) {
  std::string html =
      "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
      "<title>ifmesh benchmark report</title><style>"
      "body{font-family:'DejaVu Sans',Arial,sans-serif;font-size:14px;color:#24292f;"
      "max-width:1180px;margin:24px auto;padding:0 16px}"
      "h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:28px 0 8px;"
      "border-bottom:1px solid #d0d7de;padding-bottom:4px}h3{font-size:16px;margin:22px 0 6px}"
      "table{border-collapse:collapse;margin:6px 0;font-size:13px}"
      "td,th{border:1px solid #d0d7de;padding:4px 8px;text-align:right;vertical-align:top}"
      "th{background:#f6f8fa;font-weight:600;text-align:left}.l{text-align:left}"
      "td:not(.l){white-space:nowrap}"
      ".pass{color:#1a7f37;font-weight:700}.fail{color:#cf222e;font-weight:700}"
      "tr.failrow td{background:#fff5f5}.verdict{font-size:16px;font-weight:600}"
      ".note{color:#57606a;font-size:12.5px;max-width:960px}.name{color:#57606a;"
      "font-weight:400;font-size:13px}code{font-size:12.5px}figure{margin:8px 0}"
      ".grid{display:grid;grid-template-columns:repeat(2,560px);gap:8px 24px}"
      ".notes{font-size:12.5px;color:#424a53}</style></head><body>"
      "<h1>ifmesh benchmark report</h1><p class='note'>" +
      escapeXml(run.date) + " \u00b7 commit " + escapeXml(run.commit) + " \u00b7 " +
      escapeXml(run.cpu) + ", " + std::to_string(run.cores) + " cores</p>";
  html += summary(results, run);
  html += runTable(run);
  html += pairTable(results);
  html += meshTable(results);
  html += meshCharts(results);
  html += soakTable(results);
  html += "<h2 id='scenarios'>Scenarios</h2>";
  for (const auto& r : results) html += scenarioSection(r);
  return html + "</body></html>\n";
}

void writeHtmlFile(const std::string& path, const std::vector<ScenarioResult>& results,
                   const RunInfo& run) {
  std::ofstream out(path);
  if (!out) throw std::runtime_error("cannot write " + path);
  out << htmlReport(results, run);
}

}  // namespace ifmesh::bench
