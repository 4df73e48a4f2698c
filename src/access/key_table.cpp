#include "access/key_table.h"
