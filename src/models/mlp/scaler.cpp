// Min-max scaling of the `mlp` features: one vectorised Eigen expression per block of rows.
#include "scaler.h"

namespace cltv::models::mlp {
namespace {

using RowMatrixXd = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using RowMatrixXf = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

}  // namespace

MinMaxScaler::MinMaxScaler(const std::vector<double>& min, const std::vector<double>& max)
    : min_(Eigen::Map<const Eigen::RowVectorXd>(min.data(), static_cast<Eigen::Index>(min.size()))),
      max_(Eigen::Map<const Eigen::RowVectorXd>(max.data(), static_cast<Eigen::Index>(max.size()))) {
  const Eigen::RowVectorXd range = max_ - min_;
  scale_ = (range.array() > 0).select(range.array().inverse(), 0.0);
}

MinMaxScaler MinMaxScaler::fit(const double* values, Eigen::Index rows, Eigen::Index cols) {
  const Eigen::Map<const RowMatrixXd> matrix(values, rows, cols);
  const Eigen::RowVectorXd min = matrix.colwise().minCoeff();
  const Eigen::RowVectorXd max = matrix.colwise().maxCoeff();
  return MinMaxScaler({min.begin(), min.end()}, {max.begin(), max.end()});
}

void MinMaxScaler::transform(const double* values, Eigen::Index rows, float* out, Eigen::Index out_stride) const {
  const Eigen::Map<const RowMatrixXd> matrix(values, rows, cols());
  Eigen::Map<RowMatrixXf, 0, Eigen::OuterStride<>>(out, rows, cols(), Eigen::OuterStride<>(out_stride)) =
      ((matrix.rowwise() - min_).array().rowwise() * scale_.array()).cast<float>();
}

}  // namespace cltv::models::mlp
