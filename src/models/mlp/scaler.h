// Min-max feature scaling of the `mlp` model, fitted on the training rows and stored with the
// model: (x - min) / (max - min) per column, 0 for a column that is constant in training.
#pragma once

#include <Eigen/Core>
#include <vector>

namespace cltv::models::mlp {

class MinMaxScaler {
 public:
  MinMaxScaler() = default;
  MinMaxScaler(const std::vector<double>& min, const std::vector<double>& max);
  // Column minima and maxima of ROWS x COLS row-major VALUES.
  static MinMaxScaler fit(const double* values, Eigen::Index rows, Eigen::Index cols);

  std::vector<double> min() const { return {min_.begin(), min_.end()}; }
  std::vector<double> max() const { return {max_.begin(), max_.end()}; }
  Eigen::Index cols() const { return min_.size(); }

  // Scales ROWS row-major rows of VALUES into OUT (row-major float, rows OUT_STRIDE floats apart;
  // the columns past cols() are left alone).
  void transform(const double* values, Eigen::Index rows, float* out, Eigen::Index out_stride) const;

 private:
  Eigen::RowVectorXd min_, max_, scale_;
};

}  // namespace cltv::models::mlp
