//===- ReportFormat.h - Figures as the plan reports write them --*- C++ -*-===//
//
// Private to the plan reports (PlanReport.cpp for text and JSON,
// PlanReportHtml.cpp for HTML): how they write bytes, seconds, the grid and
// a grid's setting, so that every report says them the same way.
//
//===----------------------------------------------------------------------===//

#ifndef DISTOPT_LIB_PLAN_REPORTFORMAT_H
#define DISTOPT_LIB_PLAN_REPORTFORMAT_H

#include "distopt/Plan/Planner.h"

#include <string>

namespace distopt::plan {

/// "1.50 GiB", "12.00 MiB", "3.0 KiB", "512 B".
std::string formatBytes(double bytes);
/// "1.250 s", "12.500 ms".
std::string formatSeconds(double seconds);
/// "dp=2 tp=1 pp=2".
std::string formatGrid(const Plan &plan);
/// The schedule of a setting, with its chunks when interleaved.
std::string formatSchedule(const cost::PlanOptions &setting);
/// What the grid of `candidate` came to, in one line of "grids considered":
/// its time and memory (and setting), or why it was rejected.
std::string formatCandidate(const Candidate &candidate);
/// One line of "micro-batch sizes considered": the best plan's step,
/// memory and settings, or why the size has none.
std::string formatMicroBatchTrial(const MicroBatchTrial &trial);
/// The step as the reports show it: on the plan's grid (in inference the
/// step model prices the dp x tp devices as one tensor-parallel replica).
cost::StepReport getReportedStep(const Plan &plan);

} // namespace distopt::plan

#endif // DISTOPT_LIB_PLAN_REPORTFORMAT_H
