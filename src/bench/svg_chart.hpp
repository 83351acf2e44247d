#pragma once
// Line and scatter charts as inline SVG for the benchmark report: axes with tick values and
// units, linear or logarithmic scales, a legend naming every series, labelled vertical markers
// (percentiles, floors). No scripts and nothing fetched: the report stays self-contained.
#include <string>
#include <utility>
#include <vector>

namespace ifmesh::bench {

struct ChartAxis {
  std::string label{};  // with its unit: "RTT (µs, log scale)"
  bool log = false;
  // The range shown; when min >= max it is taken from the data (and the marks).
  double min = 0, max = 0;
  std::string tickSuffix{};  // appended to each tick value: "%" or ""
};

enum class Marker { None, Circle, Square, Diamond };

struct ChartSeries {
  std::string name{};  // in the legend
  std::string color{};
  std::vector<std::pair<double, double>> points{};
  std::vector<std::string> pointLabels{};  // optional, one per point, written beside it
  bool line = true;
  bool dashed = false;
  Marker marker = Marker::None;
};

// A vertical line at x with a label at its top ("p99 246 µs").
struct ChartMark {
  double x = 0;
  std::string label{};
  std::string color = "#57606a";
};

struct Chart {
  std::string title{};
  ChartAxis x{}, y{};
  std::vector<ChartSeries> series{};
  std::vector<ChartMark> marks{};
  int width = 720, height = 340;
};

std::string renderSvg(const Chart& chart);

// Tick positions: 1, 2, 5 x 10^k steps (about `count` of them) on a linear axis; powers of ten,
// with 2 and 5 between them when the range spans less than three decades, on a log axis.
std::vector<double> linearTicks(double min, double max, int count = 5);
std::vector<double> logTicks(double min, double max);
// Text for an HTML or SVG element or attribute: &, <, >, ' and " escaped.
std::string escapeXml(const std::string& s);
// A tick value as people write it: "0.5", "20", "1,500", "250,000".
std::string tickLabel(double v);

}  // namespace ifmesh::bench
