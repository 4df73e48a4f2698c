#include "access/request_access.h"
