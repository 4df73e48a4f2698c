#include "deploy/alarm_evaluation.h"
