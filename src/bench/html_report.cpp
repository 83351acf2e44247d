#include "bench/html_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <stdexcept>

namespace ifmesh::bench {

namespace {

constexpr double kW = 560, kH = 220, kPad = 40;

std::string num(double v, const char* f = "%.1f") {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '&')
      out += "&amp;";
    else
      out += c;
  }
  return out;
}

std::string axes(const std::string& xLabel, const std::string& yLabel, double xMax, double yMax) {
  std::string s = "<line x1='" + num(kPad) + "' y1='" + num(kH - kPad) + "' x2='" + num(kW - 10) +
                  "' y2='" + num(kH - kPad) + "' stroke='#333'/>";
  s += "<line x1='" + num(kPad) + "' y1='10' x2='" + num(kPad) + "' y2='" + num(kH - kPad) +
       "' stroke='#333'/>";
  s += "<text x='" + num(kW / 2) + "' y='" + num(kH - 8) +
       "' font-size='11' text-anchor='middle'>" + escape(xLabel) + " (max " + num(xMax, "%.3g") +
       ")</text>";
  s += "<text x='12' y='" + num(kH / 2) + "' font-size='11' transform='rotate(-90 12 " +
       num(kH / 2) + ")' text-anchor='middle'>" + escape(yLabel) + " (max " + num(yMax, "%.3g") +
       ")</text>";
  return s;
}

// Latency CDF: x = RTT (µs, up to p99.9 so one outlier does not flatten the curve), y = fraction.
std::string cdf(std::vector<double> samples) {
  if (samples.empty()) return "";
  std::sort(samples.begin(), samples.end());
  double xMax = samples[std::min(samples.size() - 1, samples.size() * 999 / 1000)];
  if (xMax <= 0) xMax = 1;
  std::string points;
  std::size_t step = std::max<std::size_t>(1, samples.size() / 400);
  for (std::size_t i = 0; i < samples.size(); i += step) {
    double x = kPad + std::min(samples[i], xMax) / xMax * (kW - kPad - 10);
    double y = (kH - kPad) - static_cast<double>(i + 1) / samples.size() * (kH - kPad - 10);
    points += num(x) + "," + num(y) + " ";
  }
  return "<svg width='" + num(kW) + "' height='" + num(kH) + "'>" +
         axes("RTT µs", "fraction", xMax, 1) +
         "<polyline fill='none' stroke='#1f6feb' stroke-width='1.5' points='" + points +
         "'/></svg>";
}

std::string histogram(const std::vector<double>& samples) {
  if (samples.empty()) return "";
  std::vector<double> sorted = samples;
  std::sort(sorted.begin(), sorted.end());
  double xMax = sorted[std::min(sorted.size() - 1, sorted.size() * 999 / 1000)];
  if (xMax <= 0) xMax = 1;
  constexpr int kBins = 50;
  std::vector<std::size_t> bins(kBins, 0);
  for (double v : samples) bins[std::min(kBins - 1, static_cast<int>(v / xMax * kBins))]++;
  double yMax = static_cast<double>(*std::max_element(bins.begin(), bins.end()));
  std::string bars;
  double bw = (kW - kPad - 10) / kBins;
  for (int i = 0; i < kBins; ++i) {
    double h = yMax > 0 ? bins[i] / yMax * (kH - kPad - 10) : 0;
    bars += "<rect x='" + num(kPad + i * bw) + "' y='" + num(kH - kPad - h) + "' width='" +
            num(bw - 1) + "' height='" + num(h) + "' fill='#2da44e'/>";
  }
  return "<svg width='" + num(kW) + "' height='" + num(kH) + "'>" +
         axes("RTT µs", "samples", xMax, yMax) + bars + "</svg>";
}

// One plotted series: points (x, y) scaled by xMax / yMax into the plot, joined and dotted.
std::string series(const std::vector<std::pair<double, double>>& points, double xMax, double yMax,
                   const char* color) {
  std::string line, dots;
  for (auto [px, py] : points) {
    double x = kPad + px / xMax * (kW - kPad - 10), y = (kH - kPad) - py / yMax * (kH - kPad - 10);
    line += num(x) + "," + num(y) + " ";
    dots += "<circle cx='" + num(x) + "' cy='" + num(y) + "' r='3' fill='" + color + "'/>";
  }
  return "<polyline fill='none' stroke='" + std::string(color) + "' points='" + line + "'/>" + dots;
}

// Mesh scaling: establishment time and memory per connection against the number of agents.
std::string scaling(const std::vector<ScenarioResult>& results) {
  std::vector<std::pair<double, std::pair<double, double>>>
      pts;  // agents -> (establish s, KB/conn)
  for (const auto& r : results) {
    if (!r.extra.contains("mesh")) continue;
    const auto& m = r.extra["mesh"];
    pts.push_back({m["agents"].get<double>(),
                   {m["establish_ms"].get<double>() / 1000,
                    m["rss_bytes_per_connection"].get<double>() / 1024}});
  }
  if (pts.size() < 2) return "";
  std::sort(pts.begin(), pts.end());
  double xMax = pts.back().first, e = 0, mem = 0;
  for (auto& p : pts) e = std::max(e, p.second.first), mem = std::max(mem, p.second.second);
  auto line = [&](bool memory, const char* color) {
    std::vector<std::pair<double, double>> xy;
    for (auto& p : pts) xy.emplace_back(p.first, memory ? p.second.second : p.second.first);
    return series(xy, xMax, std::max(memory ? mem : e, 1e-9), color);
  };
  return "<h2>Mesh scaling</h2><p><span style='color:#cf222e'>establish time (max " +
         num(e, "%.2f") + " s)</span>, <span style='color:#8250df'>RSS per connection (max " +
         num(mem, "%.0f") + " KB)</span>, normalised.</p><svg width='" + num(kW) + "' height='" +
         num(kH) + "'>" + axes("agents", "relative", xMax, 1) + line(false, "#cf222e") +
         line(true, "#8250df") + "</svg>";
}

// Round trips/s of each full mesh against the floor of the same traffic over plain UDP sockets
// (bench/mesh_udp_floor.hpp), by agent count: how much of what the kernel allows the stack gets.
std::string throughputScaling(const std::vector<ScenarioResult>& results) {
  struct Point {
    double agents, mesh, floor;
  };
  std::vector<Point> pts;
  for (const auto& r : results) {
    if (!r.extra.contains("mesh") || !r.extra["mesh"].contains("udp_floor")) continue;
    const auto& m = r.extra["mesh"];
    pts.push_back({m["agents"].get<double>(), m["round_trips_per_s"].get<double>(),
                   m["udp_floor"]["round_trips_per_s"].get<double>()});
  }
  if (pts.empty()) return "";
  std::sort(pts.begin(), pts.end(), [](auto& a, auto& b) { return a.agents < b.agents; });
  double xMax = pts.back().agents, yMax = 1;
  for (auto& p : pts) yMax = std::max({yMax, p.mesh, p.floor});
  auto line = [&](bool floor, const char* color) {
    std::vector<std::pair<double, double>> xy;
    for (auto& p : pts) xy.emplace_back(p.agents, floor ? p.floor : p.mesh);
    return series(xy, xMax, yMax, color);
  };
  return "<h2>Round trips/s against the UDP floor</h2><p><span style='color:#1f6feb'>the mesh "
         "(all-pairs echo)</span>, <span style='color:#57606a'>the same echo over plain UDP "
         "sockets</span>, by agent count.</p><svg width='" +
         num(kW) + "' height='" + num(kH) + "'>" + axes("agents", "rt/s", xMax, yMax) +
         line(true, "#57606a") + line(false, "#1f6feb") + "</svg>";
}

}  // namespace

std::string htmlReport(const std::vector<ScenarioResult>& results) {
  std::string html =
      "<!doctype html><html><head><meta charset='utf-8'><title>ifmesh benchmark report</title>"
      "<style>body{font-family:sans-serif;max-width:1200px;margin:2em auto}"
      "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
      ".pass{color:#1a7f37}.fail{color:#cf222e}pre{background:#f6f8fa;padding:8px}</style></head>"
      "<body><h1>ifmesh benchmark report</h1>";
  html += scaling(results);
  html += throughputScaling(results);
  for (const auto& r : results) {
    html += "<h2>" + escape(r.title) + "</h2><pre>" + escape(formatBlock(r)) + "</pre>";
    html += "<table><tr><th>target</th><th>limit</th><th>actual</th><th></th></tr>";
    for (const auto& t : r.targets)
      html += "<tr><td style='text-align:left'>" + escape(t.name) + "</td><td>" +
              num(t.limit, "%.3f") + "</td><td>" + num(t.actual, "%.3f") + escape(t.unit) +
              "</td><td class='" + (t.pass() ? "pass'>PASS" : "fail'>FAIL") + "</td></tr>";
    html += "</table>";
    if (!r.rttSamplesUs.empty())
      html += "<h3>Latency CDF</h3>" + cdf(r.rttSamplesUs) + "<h3>Latency histogram</h3>" +
              histogram(r.rttSamplesUs);
  }
  return html + "</body></html>\n";
}

void writeHtmlFile(const std::string& path, const std::vector<ScenarioResult>& results) {
  std::ofstream out(path);
  if (!out) throw std::runtime_error("cannot write " + path);
  out << htmlReport(results);
}

}  // namespace ifmesh::bench
