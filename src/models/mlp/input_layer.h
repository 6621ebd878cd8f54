// The first layer's products, the dominant cost of training (inputs x units per row, forward and
// gradient): SIMD kernels that read the batch's rows in place through the shuffled row index (no
// gather copy, no packing), compiled for AVX-512, AVX2 and a portable 4-lane build, with the best
// one for the running CPU chosen once at run time (the build stays portable: no -march flags).
#pragma once

#include <Eigen/Core>
#include <vector>

namespace cltv::models::mlp {

// Feature rows are stored padded with zeros to a multiple of this many columns, and the first
// layer's units to a multiple of kInputUnitBlock (zero weights), so the kernels need no tails.
constexpr Eigen::Index kInputColumnBlock = 16;
constexpr Eigen::Index kInputUnitBlock = 4;

constexpr Eigen::Index padded(Eigen::Index n, Eigen::Index block) { return (n + block - 1) / block * block; }

struct InputLayerKernels {
  const char* name;  // avx512, avx2 or portable
  // Z[j * rows + r] = bias[j] + sum_c X[row_r * cols + c] * WT[j * cols + c] for r < ROWS, j < UNITS,
  // with row_r = INDEX[r] (INDEX null: row_r = r). COLS is padded to kInputColumnBlock and UNITS to
  // kInputUnitBlock; Z is column-major with leading dimension ROWS.
  void (*forward)(const float* x, const Eigen::Index* index, Eigen::Index rows, Eigen::Index cols, const float* wt,
                  const float* bias, Eigen::Index units, float* z);
  // GT[j * cols + c] = sum_r DELTA[j * rows + r] * X[row_r * cols + c] (the kernel's gradient, transposed).
  void (*kernel_gradient)(const float* x, const Eigen::Index* index, Eigen::Index rows, Eigen::Index cols,
                          const float* delta, Eigen::Index units, float* gt);
};

// The fastest kernels this CPU runs, chosen on first use.
const InputLayerKernels& input_layer_kernels();
// Every variant this CPU runs (for the tests), the portable one first.
std::vector<InputLayerKernels> runnable_input_layer_kernels();

}  // namespace cltv::models::mlp
