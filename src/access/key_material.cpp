#include "access/key_material.h"
