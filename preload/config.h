// Configuration from the environment (GREEN_*). Every variable is checked;
// a bad value is reported with its name and accepted range, and the program
// is not run with a silently different setting.
#pragma once
#include "green.h"

namespace green::preload {
// Fills cfg from the environment; returns false after printing the error.
bool read_config(config* cfg);
int default_procs();
}  // namespace green::preload
