#include "access/usage.h"
