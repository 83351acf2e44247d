// The HTML benchmark report and its charts, on results made up for the purpose.
#include <gtest/gtest.h>

#include <regex>

#include "bench/html_report.hpp"
#include "bench/mesh_scenario.hpp"
#include "bench/svg_chart.hpp"

namespace ifmesh::bench {
namespace {

ScenarioResult pair() {
  ScenarioResult r;
  r.scenario = "p2p";
  r.title = "2-Agent P2P (STUN)";
  for (int i = 0; i < 2000; ++i) r.rttSamplesUs.push_back(50 + i % 40);
  r.rttSamplesUs.push_back(2300);  // one slow round trip: the true max, beyond p99.9
  r.rttUs = summarize(r.rttSamplesUs);
  std::vector<double> floor;
  for (int i = 0; i < 2000; ++i) floor.push_back(25 + i % 10);
  r.floorUs = summarize(floor);
  r.floorSamples.push_back({"UDP floor (direct)", floor});
  r.setupMs = summarize({5, 6, 7});
  r.targets.push_back({"p95 < 50ms (original design)", 50, r.rttUs.p95 / 1000, "ms"});
  r.targets.push_back({">= 1000 Mbit/s with 16 KiB messages", 1000, 900, " Mbit/s", false});
  return r;
}

ScenarioResult mesh(const std::string& name, const char* topology, double agents,
                    double connections, double rssPerConnection) {
  ScenarioResult r;
  r.scenario = name;
  r.title = name;
  for (int i = 0; i < 500; ++i) r.rttSamplesUs.push_back(1000 + i * 10);
  r.rttUs = summarize(r.rttSamplesUs);
  r.floorUs = summarize({300, 400, 500});
  r.echoRoundTripsPerS = 30000;
  r.establishMs = 150;
  r.connections = static_cast<std::size_t>(connections);
  r.extra["mesh"] = {
      {"agents", agents},
      {"topology", topology},
      {"connections", connections},
      {"establish_ms", 150.0},
      {"rss_bytes_peak", 40.0 * 1024 * 1024},
      {"rss_bytes_per_connection", rssPerConnection},
      {"threads", 8},
      {"cpu_us_per_round_trip", 55.0},
      {"udp_floor", {{"round_trips_per_s", 120000.0}, {"mesh_share_percent", 25.0}}}};
  r.notes.push_back("signatures on relayed messages only");
  r.targets.push_back({"p95 <= 10ms", 10, r.rttUs.p95 / 1000, "ms", true, "UDP floor p95 500 us"});
  return r;
}

RunInfo run() {
  RunInfo info;
  info.date = "2026-12-05 06:00:00 UTC";
  info.command = "ifmesh bench --html report.html";
  info.commit = "0123456789ab";
  info.cpu = "Test CPU";
  info.cores = 2;
  info.skipped.emplace_back("turn", "coturn (turnserver) is not installed");
  return info;
}

TEST(HtmlReport, OpensWithTheSummaryAndTheRun) {
  std::string html = htmlReport({pair()}, run());
  auto summary = html.find("<h2 id='summary'>"), firstChart = html.find("<svg");
  ASSERT_NE(summary, std::string::npos);
  EXPECT_LT(summary, firstChart);
  EXPECT_LT(html.find("<h2 id='run'>"), firstChart);
  EXPECT_NE(html.find("1 of 2 targets pass"), std::string::npos);
  EXPECT_NE(html.find("class='pass'>pass<"), std::string::npos);
  EXPECT_NE(html.find("class='fail'>fail<"), std::string::npos);
  EXPECT_NE(html.find("900 Mbit/s"), std::string::npos);
  for (const char* fact : {"0123456789ab", "Test CPU", "ifmesh bench --html report.html",
                           "2026-12-05 06:00:00 UTC", "skipped: coturn"})
    EXPECT_NE(html.find(fact), std::string::npos) << fact;
  // Symbols the headless browser's fonts lack, and scripts or fetches, have no place here.
  for (const char* absent : {"\u2705", "\u274c", "<script", "http://", "https://", "normalised"})
    EXPECT_EQ(html.find(absent), std::string::npos) << absent;
}

TEST(HtmlReport, LatencyChartLabelsTheTrueMaximumOnALogAxis) {
  std::string html = htmlReport({pair()}, run());
  EXPECT_NE(html.find("max 2,300 \u00b5s"), std::string::npos);
  EXPECT_NE(html.find("round-trip time (\u00b5s, log scale)"), std::string::npos);
  EXPECT_NE(html.find("UDP floor (direct), same run (2,000 round trips)"), std::string::npos);
  // Exactly one chart of the distribution: no histogram of the same samples beside it.
  std::regex svg("<svg");
  EXPECT_EQ(
      std::distance(std::sregex_iterator(html.begin(), html.end(), svg), std::sregex_iterator()),
      1);
}

TEST(HtmlReport, MeshTopologiesAreSeparateSeriesAndRssStaysSigned) {
  std::string html = htmlReport(
      {mesh("mesh5", "full mesh", 5, 10, 250000), mesh("mesh100", "full mesh", 100, 4950, 210000),
       mesh("hub100", "hub and spoke", 100, 99, -40000)},
      run());
  for (const char* series : {"ifmesh, full mesh", "ifmesh, hub and spoke", "UDP floor, full mesh",
                             "UDP floor, hub and spoke"})
    EXPECT_NE(html.find(series), std::string::npos) << series;
  EXPECT_NE(html.find("connections (log scale)"), std::string::npos);
  EXPECT_NE(html.find("-39.1 KiB"), std::string::npos);
  EXPECT_EQ(std::regex_search(html, std::regex("[0-9]{12,}")), false);
}

TEST(RunInfo, NamesTheMachineTheCommitAndTheCommand) {
  RunInfo r = currentRun();
  EXPECT_FALSE(r.cpu.empty());
  EXPECT_GT(r.cores, 0u);
  EXPECT_EQ(r.kernel.rfind("Linux ", 0), 0u) << r.kernel;
  EXPECT_FALSE(r.commit.empty());
  EXPECT_NE(r.command.find("ifmesh_bench_tests"), std::string::npos) << r.command;
  EXPECT_NE(r.date.find(" UTC"), std::string::npos) << r.date;
  auto j = toJson(r);
  for (const char* key : {"date", "seconds", "command", "commit", "build_type", "machine"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["machine"]["cores"], r.cores);
}

TEST(MeshScenario, RssPerConnectionIsSigned) {
  EXPECT_DOUBLE_EQ(rssPerConnection(1000, 3000, 10), 200);
  EXPECT_DOUBLE_EQ(rssPerConnection(3000, 1000, 10), -200);
  EXPECT_DOUBLE_EQ(rssPerConnection(3000, 1000, 0), 0);
}

TEST(Report, AMeshBlockSaysHowManyConnectionsFormedAndWhen) {
  ScenarioResult r = mesh("mesh5", "full mesh", 5, 10, 1);
  std::string block = formatBlock(r);
  EXPECT_NE(block.find("Established:  10 connections in 150 ms"), std::string::npos) << block;
  EXPECT_EQ(block.find("Setup:"), std::string::npos) << block;
}

TEST(SvgChart, TicksAreRoundNumbersInsideTheRange) {
  EXPECT_EQ(linearTicks(0, 100), (std::vector<double>{0, 20, 40, 60, 80, 100}));
  EXPECT_EQ(logTicks(10, 5000), (std::vector<double>{10, 20, 50, 100, 200, 500, 1000, 2000, 5000}));
  EXPECT_EQ(logTicks(1, 100000), (std::vector<double>{1, 10, 100, 1000, 10000, 100000}));
  EXPECT_GE(logTicks(0.1, 0.2).size(), 3u);  // narrower than one 1-2-5 step: linear values
  EXPECT_EQ(tickLabel(250000), "250,000");
  EXPECT_EQ(tickLabel(0.5), "0.5");
}

TEST(SvgChart, EveryAxisHasValuesAndTheLegendNamesEverySeries) {
  Chart c;
  c.title = "t";
  c.x = {"connections (log scale)", true};
  c.y = {"round trips/s", false};
  c.series.push_back({"ifmesh", "#000", {{10, 30000}, {4950, 9000}}});
  c.series.push_back({"UDP floor", "#666", {{10, 150000}, {4950, 90000}}, {}, true, true});
  std::string svg = renderSvg(c);
  for (const char* text : {">10<", ">100<", ">1,000<", ">150,000<", ">0<", ">ifmesh<",
                           ">UDP floor<", ">connections (log scale)<", ">round trips/s<"})
    EXPECT_NE(svg.find(text), std::string::npos) << text << "\n" << svg;
}

}  // namespace
}  // namespace ifmesh::bench
