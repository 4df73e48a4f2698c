// A data-plane file that reaches the store through another module: the include-graph
// check must name this chain.
#include "access/keys.h"
