// The published CDNOW estimates of the "buy 'til you die" models, in weeks (Fader, Hardie and Lee
// 2005; Fader and Hardie's Pareto/NBD note), shared by the prediction and distribution tests.
#pragma once

#include <utility>
#include <vector>

#include "cltv/btyd/models.h"

namespace cltv::btyd::published {

inline FittedModel model(ModelKind kind, std::vector<double> values, TimeUnit unit = TimeUnit::weeks) {
  FittedModel m;
  m.kind = kind;
  m.unit = unit;
  m.names = parameter_names(kind);
  m.values = std::move(values);
  m.standard_errors.assign(m.values.size(), 0.0);
  return m;
}

inline const FittedModel bgnbd = model(ModelKind::bgnbd, {0.243, 4.414, 0.793, 2.426});
inline const FittedModel pnbd = model(ModelKind::pnbd, {0.553, 10.578, 0.606, 11.669});
inline const FittedModel gg = model(ModelKind::gamma_gamma, {6.25, 3.74, 15.44});

}  // namespace cltv::btyd::published
