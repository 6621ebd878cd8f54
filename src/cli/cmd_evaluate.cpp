// `cltv evaluate`: score a window with a trained model and compare with what customers spent.
#include <fmt/core.h>

#include "cltv/eval/metrics.h"
#include "cltv/pipeline/training.h"
#include "command.h"

namespace cltv::cli {

Command make_evaluate_command() {
  struct Options {
    pipeline::EvaluateOptions evaluate;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  Command command{"evaluate", "Evaluate a trained model on the window at --as-of against actual spend", {}, {}, {}};
  command.params.add_required_text("model", o->evaluate.model,
                                   "model bundle (the --out of cltv train), a run directory, or "
                                   "ARTIFACTS/models/LATEST; local or s3://");
  io::declare_input_params(command.params, o->evaluate.input);
  command.params.add_date("as-of", o->evaluate.as_of, true, "first day of the target period to evaluate");
  command.params.add_text("plots", o->evaluate.plots_dir, "plots",
                          "directory for the predicted-vs-actual and decile charts (SVG/PNG and CSV); empty: none",
                          "DIR");
  pipeline::declare_unit_mismatch_param(command.params, o->evaluate.allow_unit_mismatch);
  command.params.mark_path("model", PathRole::input);
  command.params.mark_path("plots", PathRole::output);
  command.params.add_flag("json", o->json, "print the metrics as JSON");
  command.run = [o] {
    const auto outcome = pipeline::evaluate_model(o->evaluate);
    if (!outcome.warning.empty()) fmt::print(stderr, "{}\n", outcome.warning);
    if (o->json) {
      fmt::print("{}\n", eval::metrics_json(outcome.metrics));
    } else {
      const auto& m = outcome.metrics;
      fmt::print("model {} on the window at {}: {} customers\n", outcome.model_kind, outcome.as_of, m.n);
      fmt::print("mae_log1p {:.4f}  rmse_log1p {:.4f}  mae {:.2f}  median_abs_error {:.2f}  level_accuracy {:.4f}\n",
                 m.mae_log1p, m.rmse_log1p, m.mae, m.median_abs_error, m.level_accuracy);
      fmt::print("gini_normalized {}  spearman {}  p_buy_auc {}  total_ratio {}\n", eval::metric_cell(m.gini_normalized),
                 eval::metric_cell(m.spearman), eval::metric_cell(m.p_buy_auc), eval::metric_cell(m.total_ratio));
      fmt::print("total_ratio_expected {}  coverage_80 {}  p_buy_brier {}  p_buy_ece {}  p_down_auc {}  p_down_ece {}\n",
                 eval::metric_cell(m.total_ratio_expected), eval::metric_cell(m.coverage_80), eval::metric_cell(m.p_buy_brier), eval::metric_cell(m.p_buy_ece),
                 eval::metric_cell(m.p_down_auc), eval::metric_cell(m.p_down_ece));
      fmt::print("{:>6} {:>8} {:>16} {:>16}\n", "decile", "count", "mean_predicted", "mean_actual");
      for (const auto& d : m.deciles) {
        fmt::print("{:>6} {:>8} {:>16.2f} {:>16.2f}\n", d.decile, d.count, d.mean_predicted, d.mean_actual);
      }
      if (!o->evaluate.plots_dir.empty()) fmt::print("charts in {}/\n", o->evaluate.plots_dir);
    }
    return 0;
  };
  return command;
}

}  // namespace cltv::cli
