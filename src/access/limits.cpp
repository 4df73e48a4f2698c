#include "access/limits.h"
