// The first-layer kernels (input_layer.h), built three times from input_layer_kernels.inc: for
// AVX-512 and AVX2 in `#pragma GCC target` regions (GCC on x86-64 only), and a portable 4-lane
// build. Each build sits in its own anonymous namespace, so no instantiation is shared between
// instruction sets, and the AVX code runs only after __builtin_cpu_supports said the CPU has it.
#include "input_layer.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define CLTV_MLP_X86_KERNELS 1
#else
#define CLTV_MLP_X86_KERNELS 0
#endif

namespace cltv::models::mlp {
namespace {

namespace portable {
#define CLTV_MLP_LANES 4
#include "input_layer_kernels.inc"
#undef CLTV_MLP_LANES
}  // namespace portable

#if CLTV_MLP_X86_KERNELS
namespace avx2 {
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#define CLTV_MLP_LANES 8
#include "input_layer_kernels.inc"
#undef CLTV_MLP_LANES
#pragma GCC pop_options
}  // namespace avx2

namespace avx512 {
#pragma GCC push_options
#pragma GCC target("avx512f")
#define CLTV_MLP_LANES 16
#include "input_layer_kernels.inc"
#undef CLTV_MLP_LANES
#pragma GCC pop_options
}  // namespace avx512

bool cpu_has_avx512() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f");
}

bool cpu_has_avx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#endif

}  // namespace

std::vector<InputLayerKernels> runnable_input_layer_kernels() {
  std::vector<InputLayerKernels> kernels{{"portable", portable::forward, portable::kernel_gradient}};
#if CLTV_MLP_X86_KERNELS
  if (cpu_has_avx2()) kernels.push_back({"avx2", avx2::forward, avx2::kernel_gradient});
  if (cpu_has_avx512()) kernels.push_back({"avx512", avx512::forward, avx512::kernel_gradient});
#endif
  return kernels;
}

const InputLayerKernels& input_layer_kernels() {
  static const InputLayerKernels best = runnable_input_layer_kernels().back();
  return best;
}

}  // namespace cltv::models::mlp
