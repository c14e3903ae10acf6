// When a broad problem is broad enough to escalate: shared by routing (which
// shows it in TestRuleset) and intake (which acts on it), so the two agree.
#ifndef SWITCHBOARD_COMMON_CORRELATION_THRESHOLDS_H_
#define SWITCHBOARD_COMMON_CORRELATION_THRESHOLDS_H_

#include "switchboard/routing/v1/routing.pb.h"

namespace switchboard {

// Whether a problem with `customers` distinct customers, and a strategic one
// among them or not, crosses `thresholds`. No threshold set: never.
inline bool CrossesThresholds(const routing::v1::CorrelationThresholds& thresholds, int customers,
                              bool any_strategic) {
  if (thresholds.min_customers() > 0 && customers >= thresholds.min_customers()) return true;
  return thresholds.any_strategic_customer() && any_strategic;
}

}  // namespace switchboard

#endif  // SWITCHBOARD_COMMON_CORRELATION_THRESHOLDS_H_
