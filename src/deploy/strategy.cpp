#include "deploy/strategy.h"
