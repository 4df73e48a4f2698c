// The dense index of a (service, version) metric series; see SeriesRegistry. Its own
// header so that users of ids (alarm evaluation, routing snapshots) stay light.
#pragma once

#include <cstdint>

namespace glidepath::metrics {

using SeriesId = uint32_t;

}  // namespace glidepath::metrics
