#include "deploy/deployment_json.h"
