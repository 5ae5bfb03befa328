// Compiled with the eval/stats room's include paths by the test Layers.stats_includes_report:
// must fail, the statistics do not see the report writers (report -> stats, never back).
#include "tenx/eval/report/report.hpp"
