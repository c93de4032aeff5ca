//===- PipelineScheduleTest.cpp - unit tests of the pipeline schedules ----===//
//
// The order of GPipe, 1F1B and interleaved 1F1B (the one dist-run runs and
// the HTML report draws), and its timeline against the step model's bubble
// formula for stages of equal time.
//
//===----------------------------------------------------------------------===//

#include "distopt/Cost/PipelineSchedule.h"

#include "ErrorHelpers.h"

#include "llvm/ADT/StringExtras.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <tuple>

using namespace distopt::cost;
using namespace distopt::cost::testing;

namespace {

/// The schedule of `position` as "S0F0 S0F1 S0B0 ...".
std::string getOrder(PipelineScheduleKind kind, unsigned positions,
                     unsigned chunks, unsigned position, unsigned m) {
  llvm::SmallVector<std::string> tasks;
  for (const PipelineTask &t :
       makePipelineSchedule(kind, positions, chunks, position, m))
    tasks.push_back("S" + std::to_string(t.stage) + (t.backward ? "B" : "F") +
                    std::to_string(t.microBatch));
  return llvm::join(tasks, " ");
}

TEST(PipelineScheduleTest, GPipeRunsEveryForwardFirst) {
  EXPECT_EQ(getOrder(PipelineScheduleKind::GPipe, 2, 1, 1, 3),
            "S1F0 S1F1 S1F2 S1B0 S1B1 S1B2");
}

TEST(PipelineScheduleTest, OneFOneBWarmsUpByPositionsLeft) {
  // The first of 2 positions runs one forward ahead; the last alternates.
  EXPECT_EQ(getOrder(PipelineScheduleKind::OneFOneB, 2, 1, 0, 3),
            "S0F0 S0F1 S0B0 S0F2 S0B1 S0B2");
  EXPECT_EQ(getOrder(PipelineScheduleKind::OneFOneB, 2, 1, 1, 3),
            "S1F0 S1B0 S1F1 S1B1 S1F2 S1B2");
}

TEST(PipelineScheduleTest, InterleavedTakesPositionsMicroBatchesPerChunk) {
  // Position 0 of 2 with 2 chunks (stages 0 and 2), 4 micro-batches:
  // a warm-up of (2 - 0 - 1) * 2 + (2 - 1) * 2 = 4 forwards, 2 micro-batches
  // of a chunk at a time; backwards run the chunks in reverse.
  EXPECT_EQ(getOrder(PipelineScheduleKind::Interleaved1F1B, 2, 2, 0, 4),
            "S0F0 S0F1 S2F0 S2F1 S0F2 S2B0 S0F3 S2B1 S2F2 S0B0 S2F3 S0B1 "
            "S2B2 S2B3 S0B2 S0B3");
}

TEST(PipelineScheduleTest, EveryTaskRunsOnceOnItsPosition) {
  for (auto [kind, p, v, m] :
       {std::tuple{PipelineScheduleKind::GPipe, 4u, 1u, 6u},
        std::tuple{PipelineScheduleKind::OneFOneB, 4u, 1u, 2u},
        std::tuple{PipelineScheduleKind::OneFOneB, 3u, 1u, 7u},
        std::tuple{PipelineScheduleKind::Interleaved1F1B, 2u, 3u, 4u},
        std::tuple{PipelineScheduleKind::Interleaved1F1B, 4u, 2u, 8u}}) {
    std::set<std::tuple<unsigned, bool, unsigned>> seen;
    for (unsigned position = 0; position < p; ++position)
      for (const PipelineTask &t :
           makePipelineSchedule(kind, p, v, position, m)) {
        EXPECT_EQ(t.stage % p, position);
        EXPECT_TRUE(seen.insert({t.stage, t.backward, t.microBatch}).second);
      }
    EXPECT_EQ(seen.size(), size_t(2) * p * v * m);
  }
}

/// The end of the last task of the timeline.
double getMakespan(const std::vector<TimedPipelineTask> &timeline) {
  double end = 0;
  for (const TimedPipelineTask &t : timeline)
    end = std::max(end, t.endSeconds);
  return end;
}

TEST(PipelineScheduleTest, TimelineHasTheStepModelsBubble) {
  // Stages of equal time: m (f + b) of work and a bubble of (p - 1) (f + b)
  // for GPipe and 1F1B, (p - 1) (f + b) / v with v chunks of 1/v each.
  std::vector<double> f(4, 1.0), b(4, 2.0);
  for (PipelineScheduleKind kind :
       {PipelineScheduleKind::GPipe, PipelineScheduleKind::OneFOneB}) {
    auto timeline = timePipelineSchedule(kind, 4, 1, 8, f, b);
    ASSERT_EQ(succeeded(timeline), "");
    EXPECT_DOUBLE_EQ(getMakespan(*timeline), 8 * 3.0 + 3 * 3.0);
    EXPECT_EQ(timeline->size(), 64u);
  }
  std::vector<double> fChunk(4, 0.5), bChunk(4, 1.0);
  auto interleaved = timePipelineSchedule(PipelineScheduleKind::Interleaved1F1B,
                                          2, 2, 4, fChunk, bChunk);
  ASSERT_EQ(succeeded(interleaved), "");
  EXPECT_DOUBLE_EQ(getMakespan(*interleaved), 4 * 3.0 + 1 * 3.0 / 2);
  // Inference: forwards only, m + p - 1 forward times.
  auto inference =
      timePipelineSchedule(PipelineScheduleKind::OneFOneB, 4, 1, 8, f, {});
  ASSERT_EQ(succeeded(inference), "");
  EXPECT_DOUBLE_EQ(getMakespan(*inference), 11.0);
  for (const TimedPipelineTask &t : *inference)
    EXPECT_FALSE(t.task.backward);
}

TEST(PipelineScheduleTest, TimelineRunsEachTaskAfterItsInput) {
  std::vector<double> f = {1, 3, 2}, b = {2, 1, 4};
  auto timeline =
      timePipelineSchedule(PipelineScheduleKind::OneFOneB, 3, 1, 5, f, b);
  ASSERT_EQ(succeeded(timeline), "");
  std::map<std::tuple<unsigned, bool, unsigned>, double> ends;
  for (const TimedPipelineTask &t : *timeline)
    ends[std::make_tuple(t.task.stage, t.task.backward, t.task.microBatch)] =
        t.endSeconds;
  auto getEnd = [&](unsigned stage, bool backward, unsigned j) {
    return ends.at(std::make_tuple(stage, backward, j));
  };
  for (const TimedPipelineTask &t : *timeline) {
    unsigned s = t.task.stage, j = t.task.microBatch;
    if (!t.task.backward && s > 0)
      EXPECT_GE(t.startSeconds, getEnd(s - 1, false, j));
    if (t.task.backward)
      EXPECT_GE(t.startSeconds,
                s == 2 ? getEnd(s, false, j) : getEnd(s + 1, true, j));
    EXPECT_DOUBLE_EQ(t.endSeconds - t.startSeconds,
                     t.task.backward ? b[s] : f[s]);
  }
}

TEST(PipelineScheduleTest, TimelineNeedsADurationPerStage) {
  std::vector<double> three(3, 1.0);
  EXPECT_EQ(getErrorMessage(timePipelineSchedule(
                PipelineScheduleKind::Interleaved1F1B, 2, 2, 4, three, {})),
            "a pipeline timeline needs one forward (and, in training, one "
            "backward) duration per stage: 2 positions x 2 chunks, got 3 and "
            "0");
}

} // namespace
