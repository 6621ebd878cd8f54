// Tests of the `mlp` building blocks: back-propagated gradients against central finite differences
// (every activation, every loss), the float network with its SIMD first-layer kernels against the
// double one, hand-computed loss values, the --hidden syntax, Glorot bounds and the min-max scaler.
#include "models/mlp/network.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "cltv/error.h"
#include "cltv/generate/random.h"
#include "models/mlp/input_layer.h"
#include "models/mlp/scaler.h"

namespace cltv::models::mlp {
namespace {

using Net = Network<double>;

struct GradientCase {
  Activation activation;
  Loss loss;
};

class GradientCheck : public ::testing::TestWithParam<GradientCase> {};

TEST_P(GradientCheck, BackpropagationMatchesFiniteDifferences) {
  const GradientCase c = GetParam();
  constexpr Eigen::Index kRows = 9;
  constexpr Eigen::Index kInputs = 3;
  const Layout layout(kInputs, {{5, c.activation}, {4, c.activation}});
  Net network(layout, kRows);
  generate::Rng rng(11);
  Net::Vector params(layout.parameter_count());
  for (Eigen::Index i = 0; i < params.size(); ++i) params[i] = 2 * rng.uniform() - 1;
  std::vector<double> input(kRows * kInputs), target(kRows);
  for (double& v : input) v = rng.uniform();
  for (double& v : target) v = 3 * rng.uniform() - 1.5;
  const LossFunction<double> loss{c.loss, 0.3};

  Net::Vector gradient;
  network.loss_and_gradient(input.data(), kInputs, nullptr, target.data(), kRows, params, loss, gradient);
  ASSERT_EQ(gradient.size(), layout.parameter_count());

  const auto mean_loss = [&](const Net::Vector& p) {
    const auto output = network.forward(input.data(), kInputs, nullptr, kRows, p);
    return loss.sum(output, Eigen::Map<const Eigen::ArrayXd>(target.data(), kRows)) / kRows;
  };
  constexpr double kStep = 1e-6;
  for (Eigen::Index i = 0; i < params.size(); ++i) {
    Net::Vector up = params, down = params;
    up[i] += kStep;
    down[i] -= kStep;
    const double numeric = (mean_loss(up) - mean_loss(down)) / (2 * kStep);
    EXPECT_NEAR(gradient[i], numeric, 1e-6 + 1e-5 * std::abs(numeric))
        << "parameter " << i << ", activation " << activation_name(c.activation) << ", loss " << loss_name(c.loss);
  }
}

std::vector<GradientCase> all_cases() {
  std::vector<GradientCase> cases;
  for (const Activation a : {Activation::relu, Activation::tanh, Activation::sigmoid, Activation::linear}) {
    for (const Loss l : {Loss::mae, Loss::mse, Loss::huber}) cases.push_back({a, l});
  }
  return cases;
}

std::string case_name(const ::testing::TestParamInfo<GradientCase>& param_info) {
  return std::string(activation_name(param_info.param.activation)) + "_" +
         std::string(loss_name(param_info.param.loss));
}

INSTANTIATE_TEST_SUITE_P(EveryActivationAndLoss, GradientCheck, ::testing::ValuesIn(all_cases()), case_name);

// Every first-layer kernel this CPU runs, against a double-precision reference, for shuffled and
// contiguous rows, with padded columns (78 -> 80) and units (6 -> 8).
TEST(MlpInputLayer, EveryKernelMatchesTheReference) {
  constexpr Eigen::Index kRows = 37, kStoredRows = 50, kCols = 78, kUnits = 6;
  const Eigen::Index cols = padded(kCols, kInputColumnBlock);
  const Eigen::Index units = padded(kUnits, kInputUnitBlock);
  generate::Rng rng(3);
  std::vector<float> x(static_cast<size_t>(kStoredRows * cols), 0.0F), wt(static_cast<size_t>(units * cols), 0.0F);
  std::vector<float> bias(static_cast<size_t>(units), 0.0F), delta(static_cast<size_t>(units * kRows), 0.0F);
  for (Eigen::Index r = 0; r < kStoredRows; ++r) {
    for (Eigen::Index c = 0; c < kCols; ++c) x[static_cast<size_t>(r * cols + c)] = static_cast<float>(rng.uniform());
  }
  for (Eigen::Index j = 0; j < kUnits; ++j) {
    for (Eigen::Index c = 0; c < kCols; ++c)
      wt[static_cast<size_t>(j * cols + c)] = static_cast<float>(rng.uniform() - 0.5);
    bias[static_cast<size_t>(j)] = static_cast<float>(rng.uniform());
    for (Eigen::Index r = 0; r < kRows; ++r)
      delta[static_cast<size_t>(j * kRows + r)] = static_cast<float>(rng.uniform() - 0.5);
  }
  std::vector<Eigen::Index> index;
  for (Eigen::Index r = 0; r < kRows; ++r) index.push_back((r * 7 + 3) % kStoredRows);

  const std::vector<InputLayerKernels> kernels = runnable_input_layer_kernels();
  ASSERT_FALSE(kernels.empty());
  EXPECT_STREQ(kernels.front().name, "portable");
  for (const InputLayerKernels& k : kernels) {
    for (const bool shuffled : {true, false}) {
      const Eigen::Index* rows_index = shuffled ? index.data() : nullptr;
      std::vector<float> z(static_cast<size_t>(units * kRows)), gt(static_cast<size_t>(units * cols));
      k.forward(x.data(), rows_index, kRows, cols, wt.data(), bias.data(), units, z.data());
      k.kernel_gradient(x.data(), rows_index, kRows, cols, delta.data(), units, gt.data());
      for (Eigen::Index j = 0; j < units; ++j) {
        for (Eigen::Index r = 0; r < kRows; ++r) {
          const float* row = x.data() + (shuffled ? index[static_cast<size_t>(r)] : r) * cols;
          double expected = bias[static_cast<size_t>(j)];
          for (Eigen::Index c = 0; c < cols; ++c) expected += double{row[c]} * wt[static_cast<size_t>(j * cols + c)];
          EXPECT_NEAR(z[static_cast<size_t>(j * kRows + r)], expected, 1e-4) << k.name << " z " << j << "," << r;
        }
        for (Eigen::Index c = 0; c < cols; ++c) {
          double expected = 0;
          for (Eigen::Index r = 0; r < kRows; ++r) {
            const float* row = x.data() + (shuffled ? index[static_cast<size_t>(r)] : r) * cols;
            expected += double{delta[static_cast<size_t>(j * kRows + r)]} * row[c];
          }
          EXPECT_NEAR(gt[static_cast<size_t>(j * cols + c)], expected, 1e-4) << k.name << " gt " << j << "," << c;
        }
      }
    }
  }
}

// The float network (padded rows read through an index, SIMD first layer) computes the same loss
// and gradient as the double one, up to float rounding.
TEST(MlpNetwork, FloatMatchesDouble) {
  constexpr Eigen::Index kRows = 21, kStoredRows = 30, kInputs = 19;
  const Eigen::Index stride = padded(kInputs, kInputColumnBlock);
  const Layout layout(kInputs, parse_hidden("5:relu,8:tanh,3:sigmoid"));
  generate::Rng rng(4);
  std::vector<float> xf(static_cast<size_t>(kStoredRows * stride), 0.0F);
  std::vector<double> xd(static_cast<size_t>(kStoredRows * kInputs));
  for (Eigen::Index r = 0; r < kStoredRows; ++r) {
    for (Eigen::Index c = 0; c < kInputs; ++c) {
      const auto v = static_cast<float>(rng.uniform());
      xf[static_cast<size_t>(r * stride + c)] = v;
      xd[static_cast<size_t>(r * kInputs + c)] = v;
    }
  }
  std::vector<Eigen::Index> index;
  std::vector<float> tf;
  std::vector<double> td;
  for (Eigen::Index r = 0; r < kRows; ++r) {
    index.push_back((r * 11 + 5) % kStoredRows);
    tf.push_back(static_cast<float>(2 * rng.uniform()));
    td.push_back(tf.back());
  }
  const Network<float>::Vector pf = Network<float>::initial_parameters(layout, 9);
  const Network<double>::Vector pd = pf.cast<double>();
  Network<float> nf(layout, kRows);
  Network<double> nd(layout, kRows);
  Network<float>::Vector gf;
  Network<double>::Vector gd;
  const double lf = nf.loss_and_gradient(xf.data(), stride, index.data(), tf.data(), kRows, pf, {Loss::mse, 1.0F}, gf);
  const double ld = nd.loss_and_gradient(xd.data(), kInputs, index.data(), td.data(), kRows, pd, {Loss::mse, 1.0}, gd);
  EXPECT_NEAR(lf, ld, 1e-5 * ld);
  ASSERT_EQ(gf.size(), gd.size());
  for (Eigen::Index i = 0; i < gd.size(); ++i) EXPECT_NEAR(gf[i], gd[i], 1e-5 + 1e-4 * std::abs(gd[i])) << i;
}

TEST(MlpLoss, SumsMatchHandComputation) {
  const Eigen::ArrayXd output = (Eigen::ArrayXd(3) << 1.0, 2.0, 0.5).finished();
  const Eigen::ArrayXd target = (Eigen::ArrayXd(3) << 0.0, 4.0, 0.5).finished();
  // Differences 1, -2, 0.
  EXPECT_DOUBLE_EQ((LossFunction<double>{Loss::mae, 1.0}.sum(output, target)), 3.0);
  EXPECT_DOUBLE_EQ((LossFunction<double>{Loss::mse, 1.0}.sum(output, target)), 5.0);
  // Huber, delta 1: 0.5 * 1^2 + 1 * (2 - 0.5) + 0 = 2.
  EXPECT_DOUBLE_EQ((LossFunction<double>{Loss::huber, 1.0}.sum(output, target)), 2.0);
  Eigen::ArrayXd gradient(3);
  LossFunction<double>{Loss::mae, 1.0}.gradient(output, target, gradient);
  EXPECT_DOUBLE_EQ(gradient[0], 1.0 / 3);
  EXPECT_DOUBLE_EQ(gradient[1], -1.0 / 3);
  EXPECT_DOUBLE_EQ(gradient[2], 0.0);
}

TEST(MlpHidden, ParsesAndFormatsTheLayerSyntax) {
  const std::vector<LayerSpec> layers = parse_hidden("4:relu,8:relu,8:tanh,8:tanh");
  ASSERT_EQ(layers.size(), 4U);
  EXPECT_EQ(layers[0], (LayerSpec{4, Activation::relu}));
  EXPECT_EQ(layers[3], (LayerSpec{8, Activation::tanh}));
  EXPECT_EQ(format_hidden(parse_hidden("3:sigmoid,2:linear")), "3:sigmoid,2:linear");
}

TEST(MlpHidden, RejectsMalformedLayersAsConfigErrors) {
  for (const char* bad : {"", "4", "4:softmax", "0:relu", "x:relu", "4:relu,", ",4:relu", "4:relu;8:tanh", "-2:tanh"}) {
    try {
      parse_hidden(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::config) << bad;
    }
  }
}

TEST(MlpLayout, CountsKerasParameters) {
  // Keras's summary of the original network on 78 features: 316 + 40 + 72 + 72 + 9 = 509.
  const Layout layout(78, parse_hidden("4:relu,8:relu,8:tanh,8:tanh"));
  EXPECT_EQ(layout.parameter_count(), 509);
  EXPECT_EQ(layout.layers().size(), 5U);
  EXPECT_EQ(layout.layers().back(), (LayerSpec{1, Activation::linear}));
}

TEST(MlpInit, GlorotUniformKernelsAndZeroBiases) {
  const Layout layout(78, parse_hidden("4:relu,8:tanh"));
  const Network<float>::Vector params = Network<float>::initial_parameters(layout, 5);
  const double limit0 = std::sqrt(6.0 / (78 + 4));
  const Eigen::Map<const Eigen::VectorXf> kernel0(params.data() + layout.kernel_offset(0), 78 * 4);
  EXPECT_LE(kernel0.cwiseAbs().maxCoeff(), limit0);
  EXPECT_GT(kernel0.cwiseAbs().maxCoeff(), 0.8 * limit0);  // 312 draws fill the range
  for (size_t layer = 0; layer < layout.layers().size(); ++layer) {
    const Eigen::Index units = layout.layers()[layer].units;
    EXPECT_TRUE(Eigen::Map<const Eigen::VectorXf>(params.data() + layout.bias_offset(layer), units).isZero(0));
  }
  EXPECT_EQ(params, Network<float>::initial_parameters(layout, 5));
  EXPECT_NE(params, Network<float>::initial_parameters(layout, 6));
}

TEST(MlpScaler, MapsTrainingRangeToUnitIntervalAndConstantColumnsToZero) {
  // Columns: 2..6, constant 7, -1..1.
  const std::vector<double> train = {2, 7, -1, 6, 7, 1, 4, 7, 0};
  const MinMaxScaler scaler = MinMaxScaler::fit(train.data(), 3, 3);
  EXPECT_EQ(scaler.min(), (std::vector<double>{2, 7, -1}));
  EXPECT_EQ(scaler.max(), (std::vector<double>{6, 7, 1}));
  const std::vector<double> rows = {4, 7, 1, 8, 100, -3};
  std::vector<float> out(8, 9.0F);  // rows 4 floats apart: the fourth column is left alone
  scaler.transform(rows.data(), 2, out.data(), 4);
  EXPECT_EQ(out, (std::vector<float>{0.5F, 0.0F, 1.0F, 9.0F, 1.5F, 0.0F, -1.0F, 9.0F}));
}

}  // namespace
}  // namespace cltv::models::mlp
