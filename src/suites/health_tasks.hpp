#pragma once
// The health suite's generator parts (health.cpp, health_arithmetic.cpp).
#include <map>
#include <string>
#include <vector>

#include "tenx/suites/generator.hpp"

namespace tenx::suites {

// Adds the clinical-arithmetic tasks (BMI, dose per kg, volume from concentration, infusion
// rate, unit conversion) to the splits and their TaskInfo to `tasks`.
void add_clinical_arithmetic(const BuildContext& ctx, std::map<std::string, std::vector<Item>>& splits,
                             std::vector<TaskInfo>& tasks);

}  // namespace tenx::suites
