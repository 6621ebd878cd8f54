// Running gnuplot on a generated script (no shell): locating the executable, quoting strings for
// gnuplot, and rendering one chart to SVG (and PNG when pngcairo exists) with atomic renames.
#pragma once

#include <string>

#include "cltv/eval/plots.h"

namespace cltv::eval::detail {

// Absolute path of gnuplot found on PATH; throws io error with the scripts/setup hint when absent.
std::string find_gnuplot();

// TEXT as a single-quoted gnuplot string (quotes doubled); throws config error on line breaks.
std::string gnuplot_quote(const std::string& text);

// Runs GNUPLOT on PLOT_COMMANDS (everything after the terminal and output settings), rendering
// OUT_PREFIX.svg and, when the pngcairo terminal exists, OUT_PREFIX.png. Returns the two paths
// (png empty when not rendered); the csv member is left empty.
PlotFiles render_chart(const std::string& gnuplot, const std::string& plot_commands, const std::string& out_prefix);

}  // namespace cltv::eval::detail
