// Alarm evaluation: metric windows + an AlarmRule → ok | alarm | insufficient_data.
#pragma once

#include "deploy/alarm.h"
