#include "access/operations.h"
