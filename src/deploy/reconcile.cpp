#include "deploy/reconcile.h"
