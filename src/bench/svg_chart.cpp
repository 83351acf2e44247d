#include "bench/svg_chart.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace ifmesh::bench {

namespace {

constexpr double kLeft = 80, kRight = 28, kBottom = 54, kTitle = 26, kLegendRow = 18;
constexpr double kCharWidth = 6.6;  // of the 11 px legend font, to lay the legend out

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

struct Range {
  double min = 0, max = 1;
  bool log = false;
  double at(double v, double from, double to) const {
    double f = log ? (std::log10(v) - std::log10(min)) / (std::log10(max) - std::log10(min))
                   : (v - min) / (max - min);
    return from + f * (to - from);
  }
};

// Snaps a log axis outwards to 1, 2 or 5 x 10^k (to powers of ten over three decades or more).
Range logRange(double lo, double hi) {
  auto below = [](double v, bool decadesOnly) {
    double p = std::pow(10, std::floor(std::log10(v)));
    if (decadesOnly) return p;
    for (double m : {5.0, 2.0, 1.0})
      if (m * p <= v * (1 + 1e-9)) return m * p;
    return p;
  };
  auto above = [](double v, bool decadesOnly) {
    double p = std::pow(10, std::floor(std::log10(v)));
    if (decadesOnly) return p * (v > p * (1 + 1e-9) ? 10 : 1);
    for (double m : {1.0, 2.0, 5.0, 10.0})
      if (m * p >= v * (1 - 1e-9)) return m * p;
    return 10 * p;
  };
  bool decades = hi / lo >= 1000;
  Range r{below(lo, decades), above(hi, decades), true};
  if (r.max <= r.min) r.max = r.min * 10;
  return r;
}

Range axisRange(const ChartAxis& axis, std::vector<double> values) {
  if (axis.min < axis.max) return {axis.min, axis.max, axis.log};
  if (axis.log)
    values.erase(std::remove_if(values.begin(), values.end(), [](double v) { return v <= 0; }),
                 values.end());
  if (values.empty()) return {axis.log ? 1.0 : 0.0, axis.log ? 10.0 : 1.0, axis.log};
  auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  if (axis.log) return logRange(*lo, *hi);
  double min = std::min(0.0, *lo), max = *hi > min ? *hi : min + 1;
  auto ticks = linearTicks(min, max);
  return {min, std::max(max, ticks.empty() ? max : ticks.back()), false};
}

std::string markerSvg(Marker m, double x, double y, const std::string& color) {
  switch (m) {
    case Marker::Circle:
      return "<circle cx='" + num(x) + "' cy='" + num(y) + "' r='3.5' fill='" + color + "'/>";
    case Marker::Square:
      return "<rect x='" + num(x - 3.5) + "' y='" + num(y - 3.5) + "' width='7' height='7' fill='" +
             color + "'/>";
    case Marker::Diamond:
      return "<path d='M" + num(x) + " " + num(y - 5) + " L" + num(x + 5) + " " + num(y) + " L" +
             num(x) + " " + num(y + 5) + " L" + num(x - 5) + " " + num(y) + " Z' fill='" + color +
             "'/>";
    case Marker::None:
      break;
  }
  return "";
}

}  // namespace

std::string escapeXml(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::vector<double> linearTicks(double min, double max, int count) {
  std::vector<double> ticks;
  if (!(max > min) || count < 1) return ticks;
  double raw = (max - min) / count, p = std::pow(10, std::floor(std::log10(raw))), step = p;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * p >= raw) {
      step = m * p;
      break;
    }
  double first = std::floor(min / step + 1e-9) * step;
  for (double v = first; v < max + step - 1e-9 * step; v += step)
    ticks.push_back(std::abs(v) < step * 1e-9 ? 0 : v);
  return ticks;
}

std::vector<double> logTicks(double min, double max) {
  std::vector<double> ticks;
  if (!(min > 0) || !(max > min)) return ticks;
  bool decadesOnly = max / min >= 1000;
  for (double p = std::pow(10, std::floor(std::log10(min))); p <= max * (1 + 1e-9); p *= 10)
    for (double m : {1.0, 2.0, 5.0}) {
      if (decadesOnly && m != 1.0) continue;
      double v = m * p;
      if (v >= min * (1 - 1e-9) && v <= max * (1 + 1e-9)) ticks.push_back(v);
    }
  // A range narrower than 1-2-5 steps gets linear steps, so that its axis still has values.
  if (ticks.size() < 3) return linearTicks(min, max, 4);
  return ticks;
}

std::string tickLabel(double v) {
  char buf[48];
  if (std::abs(v) >= 1000) {
    std::snprintf(buf, sizeof buf, "%.0f", std::abs(v));
    std::string digits = buf, out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
      if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
      out += digits[i];
    }
    return (v < 0 ? "-" : "") + out;
  }
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

std::string renderSvg(const Chart& c) {
  // Legend rows first: they decide where the plot starts.
  struct Item {
    const ChartSeries* s;
    double x;
    int row;
  };
  std::vector<Item> legend;
  double lx = kLeft;
  int row = 0;
  for (const auto& s : c.series) {
    double w = 34 + kCharWidth * static_cast<double>(s.name.size());
    if (lx + w > c.width - kRight && lx > kLeft) {
      lx = kLeft;
      ++row;
    }
    legend.push_back({&s, lx, row});
    lx += w + 14;
  }
  // Marker labels get a band of their own above the plot, staggered over up to four rows.
  double markRows = static_cast<double>(std::min<std::size_t>(c.marks.size(), 4));
  double top = kTitle + (legend.empty() ? 0 : (row + 1) * kLegendRow) + 10 + 13 * markRows;
  double x0 = kLeft, x1 = c.width - kRight, y0 = top, y1 = c.height - kBottom;

  std::vector<double> xs, ys;
  for (const auto& s : c.series)
    for (auto [x, y] : s.points) {
      if (c.x.log && x <= 0) continue;
      if (c.y.log && y <= 0) continue;
      xs.push_back(x);
      ys.push_back(y);
    }
  for (const auto& m : c.marks) xs.push_back(m.x);
  Range rx = axisRange(c.x, xs), ry = axisRange(c.y, ys);
  auto px = [&](double v) { return rx.at(v, x0, x1); };
  auto py = [&](double v) { return ry.at(v, y1, y0); };

  std::string svg = "<svg width='" + num(c.width) + "' height='" + num(c.height) +
                    "' viewBox='0 0 " + num(c.width) + " " + num(c.height) +
                    "' role='img' aria-label='" + escapeXml(c.title) +
                    "' font-family='DejaVu Sans, Arial, sans-serif'>";
  svg += "<text x='" + num(x0) + "' y='17' font-size='13' font-weight='bold'>" +
         escapeXml(c.title) + "</text>";
  for (const auto& item : legend) {
    double y = kTitle + item.row * kLegendRow + 6;
    svg += "<line x1='" + num(item.x) + "' y1='" + num(y) + "' x2='" + num(item.x + 24) + "' y2='" +
           num(y) + "' stroke='" + item.s->color + "' stroke-width='2'" +
           (item.s->dashed ? " stroke-dasharray='5 3'" : "") +
           (item.s->line ? "" : " stroke-opacity='0'") + "/>";
    svg += markerSvg(item.s->marker, item.x + 12, y, item.s->color);
    svg += "<text x='" + num(item.x + 30) + "' y='" + num(y + 4) + "' font-size='11'>" +
           escapeXml(item.s->name) + "</text>";
  }

  // Grid, ticks and their values.
  auto xt = rx.log ? logTicks(rx.min, rx.max) : linearTicks(rx.min, rx.max);
  auto yt = ry.log ? logTicks(ry.min, ry.max) : linearTicks(ry.min, ry.max);
  for (double t : xt) {
    if (t < rx.min - 1e-9 * std::abs(rx.max) || t > rx.max * (1 + 1e-9)) continue;
    double x = px(t);
    svg += "<line x1='" + num(x) + "' y1='" + num(y0) + "' x2='" + num(x) + "' y2='" + num(y1) +
           "' stroke='#eaeef2'/><line x1='" + num(x) + "' y1='" + num(y1) + "' x2='" + num(x) +
           "' y2='" + num(y1 + 5) + "' stroke='#57606a'/><text x='" + num(x) + "' y='" +
           num(y1 + 17) + "' font-size='11' text-anchor='middle' fill='#24292f'>" +
           escapeXml(tickLabel(t) + c.x.tickSuffix) + "</text>";
  }
  for (double t : yt) {
    if (t < ry.min - 1e-9 * std::abs(ry.max) || t > ry.max * (1 + 1e-9)) continue;
    double y = py(t);
    svg += "<line x1='" + num(x0) + "' y1='" + num(y) + "' x2='" + num(x1) + "' y2='" + num(y) +
           "' stroke='#eaeef2'/><line x1='" + num(x0 - 5) + "' y1='" + num(y) + "' x2='" + num(x0) +
           "' y2='" + num(y) + "' stroke='#57606a'/><text x='" + num(x0 - 8) + "' y='" +
           num(y + 4) + "' font-size='11' text-anchor='end' fill='#24292f'>" +
           escapeXml(tickLabel(t) + c.y.tickSuffix) + "</text>";
  }
  svg += "<line x1='" + num(x0) + "' y1='" + num(y1) + "' x2='" + num(x1) + "' y2='" + num(y1) +
         "' stroke='#24292f'/><line x1='" + num(x0) + "' y1='" + num(y0) + "' x2='" + num(x0) +
         "' y2='" + num(y1) + "' stroke='#24292f'/>";
  svg += "<text x='" + num((x0 + x1) / 2) + "' y='" + num(c.height - 12) +
         "' font-size='12' text-anchor='middle'>" + escapeXml(c.x.label) + "</text>";
  double ly = (y0 + y1) / 2;
  svg += "<text x='16' y='" + num(ly) +
         "' font-size='12' text-anchor='middle' transform='rotate(-90 16 " + num(ly) + ")'>" +
         escapeXml(c.y.label) + "</text>";

  // Markers behind the data, labels staggered so that neighbours stay readable.
  for (std::size_t i = 0; i < c.marks.size(); ++i) {
    const auto& m = c.marks[i];
    if (rx.log && m.x <= 0) continue;
    double x = px(m.x), ty = y0 - 13 * markRows + 10 + 13 * static_cast<double>(i % 4);
    bool right = x > x1 - 120;
    svg += "<line x1='" + num(x) + "' y1='" + num(ty + 3) + "' x2='" + num(x) + "' y2='" + num(y1) +
           "' stroke='" + m.color + "' stroke-dasharray='3 3'/><text x='" +
           num(right ? x - 4 : x + 4) + "' y='" + num(ty) + "' font-size='10.5' fill='" + m.color +
           "' text-anchor='" + (right ? "end" : "start") + "'>" + escapeXml(m.label) + "</text>";
  }
  for (const auto& s : c.series) {
    std::string line;
    std::string dots;
    for (std::size_t i = 0; i < s.points.size(); ++i) {
      auto [vx, vy] = s.points[i];
      if ((rx.log && vx <= 0) || (ry.log && vy <= 0)) continue;
      double x = px(vx), y = py(vy);
      line += num(x) + "," + num(y) + " ";
      dots += markerSvg(s.marker, x, y, s.color);
      if (i < s.pointLabels.size() && !s.pointLabels[i].empty()) {
        bool right = x > x1 - 60;  // near the right edge: the label goes left of its point
        dots += "<text x='" + num(right ? x - 7 : x + 7) + "' y='" + num(y - 6) +
                "' font-size='10' fill='" + s.color + "' text-anchor='" +
                (right ? "end" : "start") + "'>" + escapeXml(s.pointLabels[i]) + "</text>";
      }
    }
    if (s.line && !line.empty())
      svg += "<polyline fill='none' stroke='" + s.color + "' stroke-width='1.8'" +
             (s.dashed ? " stroke-dasharray='5 3'" : "") + " points='" + line + "'/>";
    svg += dots;
  }
  return svg + "</svg>";
}

}  // namespace ifmesh::bench
