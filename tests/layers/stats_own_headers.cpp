// The control of Layers.stats_includes_report: with the same include paths, the stats room's
// own headers and the run room's records compile.
#include "tenx/eval/run/record.hpp"
#include "tenx/eval/stats/stats.hpp"
