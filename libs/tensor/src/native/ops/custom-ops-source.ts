// The C++ source of @sgfd/tensor's own TensorFlow ops, as a string so that the engine build (tools/tensorflow)
// compiles the same text from a checkout and from a bundled worker; its sha256 keys the cached build.
export const CUSTOM_OPS_SOURCE = String.raw`// TensorFlow ops of @sgfd/tensor that TensorFlow's own op set cannot express without materialising large
// intermediates. Built with the native engine (tools/tensorflow) against the wheel's headers and loaded into
// the same process as the tfjs-node binding, so the ops run through the binding's eager executor by name.
#include <algorithm>
#include <cmath>
#include <vector>

#include "Eigen/Core"
#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/shape_inference.h"
#include "tensorflow/core/util/work_sharder.h"

namespace sgfd {
using tensorflow::OpKernel;
using tensorflow::OpKernelConstruction;
using tensorflow::OpKernelContext;
using tensorflow::Tensor;
using tensorflow::TensorShape;
using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstRowMap = Eigen::Map<const RowMatrix>;

REGISTER_OP("SgfdMamlScores")
    .Input("user_part: float")   // [C, H]: the users' part of 2 W1 [u; i; f]
    .Input("item_part: float")   // [N, H]: the items' part (id and content)
    .Input("user_sq: float")     // [C]: |u|^2
    .Input("item_sq: float")     // [N]: |i|^2 + |f|^2
    .Input("bias2: float")       // [H]: 2 b1
    .Input("w2: float")          // [H, D]
    .Input("b2: float")          // [D]
    .Input("user_emb: float")    // [C, D]
    .Input("item_emb: float")    // [N, D]
    .Attr("scale: float")        // the attention's multiplier (the embedding size)
    .Output("scores: float")     // [C, N]
    .SetShapeFn([](tensorflow::shape_inference::InferenceContext* c) {
      c->set_output(0, c->Matrix(c->Dim(c->input(0), 0), c->Dim(c->input(1), 0)));
      return absl::OkStatus();
    });

// MAML's score -sum_d a_d^2 (u_d - i_d)^2 of every (user, item) pair, with the attention
// a = scale * softmax(relu(W2 norm(tanh(pre)) + b2)), pre = W1 [u; i; f] / |[u; i; f]| + b1 (the inputs
// are the doubled parts the stock-op path uses, so pre is half of their sum). One pass per tile of pairs:
// the tile's hidden layer stays in cache instead of being written and read back by one op per step, and
// tanh is Eigen's vectorised rational approximation. On office (2 cores, AVX2) the product with W2 takes
// about 60 % of the time at ~120 GFLOPS and tanh most of the rest.
class MamlScoresOp : public OpKernel {
 public:
  explicit MamlScoresOp(OpKernelConstruction* ctx) : OpKernel(ctx) { OP_REQUIRES_OK(ctx, ctx->GetAttr("scale", &scale_)); }

  void Compute(OpKernelContext* ctx) override {
    const Tensor& user_part = ctx->input(0);
    const Tensor& item_part = ctx->input(1);
    const Tensor& user_sq = ctx->input(2);
    const Tensor& item_sq = ctx->input(3);
    const Tensor& bias2 = ctx->input(4);
    const Tensor& w2 = ctx->input(5);
    const Tensor& b2 = ctx->input(6);
    const Tensor& user_emb = ctx->input(7);
    const Tensor& item_emb = ctx->input(8);
    OP_REQUIRES(ctx, user_part.dims() == 2 && item_part.dims() == 2 && w2.dims() == 2,
                tensorflow::errors::InvalidArgument("user_part, item_part and w2 must be matrices"));
    const int64_t n_users = user_part.dim_size(0), n_items = item_part.dim_size(0);
    const int64_t hidden = user_part.dim_size(1), d = w2.dim_size(1);
    OP_REQUIRES(ctx, item_part.dim_size(1) == hidden && w2.dim_size(0) == hidden && bias2.NumElements() == hidden &&
                         b2.NumElements() == d && user_sq.NumElements() == n_users && item_sq.NumElements() == n_items &&
                         user_emb.dims() == 2 && user_emb.dim_size(0) == n_users && user_emb.dim_size(1) == d &&
                         item_emb.dims() == 2 && item_emb.dim_size(0) == n_items && item_emb.dim_size(1) == d,
                tensorflow::errors::InvalidArgument("SgfdMamlScores: inconsistent shapes (users ", n_users, ", items ",
                                                    n_items, ", hidden ", hidden, ", d ", d, ")"));
    Tensor* out = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, TensorShape({n_users, n_items}), &out));
    if (n_users == 0 || n_items == 0) return;

    const float* up = user_part.flat<float>().data();
    const float* ip = item_part.flat<float>().data();
    const float* usq = user_sq.flat<float>().data();
    const float* isq = item_sq.flat<float>().data();
    const float* bias = bias2.flat<float>().data();
    const float* bout = b2.flat<float>().data();
    const float* ue = user_emb.flat<float>().data();
    const float* ie = item_emb.flat<float>().data();
    float* scores = out->flat<float>().data();
    const ConstRowMap w2m(w2.flat<float>().data(), hidden, d);
    const Eigen::ArrayXf half_b = 0.5f * Eigen::Map<const Eigen::ArrayXf>(bias, hidden);
    const Eigen::Map<const Eigen::RowVectorXf> bout_row(bout, d);
    const float scale = scale_;

    const int64_t tiles_per_user = (n_items + kTile - 1) / kTile;
    // Cost of one tile in cycles, roughly: its product and its tanh.
    const int64_t cost = kTile * hidden * (2 * d + 20);
    auto work = [&](int64_t begin, int64_t end) {
      RowMatrix s(kTile, hidden), projected(kTile, d);
      Eigen::ArrayXf row_sq(kTile);
      for (int64_t t = begin; t < end; t++) {
        const int64_t c = t / tiles_per_user;
        const int64_t first = (t % tiles_per_user) * kTile;
        const int64_t rows = std::min<int64_t>(kTile, n_items - first);
        const Eigen::Map<const Eigen::ArrayXf> u(up + c * hidden, hidden);
        for (int64_t r = 0; r < rows; r++) {
          const int64_t n = first + r;
          const float half_inv_norm = 0.5f / std::sqrt(std::max(usq[c] + isq[n], 1e-12f));
          const Eigen::Map<const Eigen::ArrayXf> i(ip + n * hidden, hidden);
          s.row(r).array() = ((u + i) * half_inv_norm + half_b).transpose();
        }
        // tanh of the (undoubled) pre-activation: Eigen's vectorised rational approximation, no exp.
        s.topRows(rows).array() = s.topRows(rows).array().tanh();
        row_sq.head(rows) = s.topRows(rows).array().square().rowwise().sum();
        projected.topRows(rows).noalias() = s.topRows(rows) * w2m;
        // The epilogue on the whole tile at once, so that Eigen vectorises its exp and its row reductions.
        auto p = projected.topRows(rows).array();
        const Eigen::ArrayXf inv = row_sq.head(rows).max(1e-24f).rsqrt();
        p = p.colwise() * inv;
        p = (p.rowwise() + bout_row.array()).max(0.0f);
        p = (p.colwise() - p.rowwise().maxCoeff()).exp();
        const Eigen::ArrayXf norm = scale / p.rowwise().sum();
        p = p.colwise() * norm;
        const Eigen::Map<const RowMatrix> items_e(ie + first * d, rows, d);
        const Eigen::Map<const Eigen::RowVectorXf> user_e(ue + c * d, d);
        const Eigen::ArrayXf tile_scores =
            -(p.square() * (items_e.rowwise() - user_e).array().square()).rowwise().sum();
        std::copy(tile_scores.data(), tile_scores.data() + rows, scores + c * n_items + first);
      }
    };
    auto* workers = ctx->device()->tensorflow_cpu_worker_threads();
    tensorflow::Shard(workers->num_threads, workers->workers, n_users * tiles_per_user, cost, work);
  }

 private:
  static constexpr int64_t kTile = 256;
  float scale_;
};

REGISTER_KERNEL_BUILDER(Name("SgfdMamlScores").Device(tensorflow::DEVICE_CPU), MamlScoresOp);
}  // namespace sgfd

// Node loads this library with process.dlopen, which asks N-API for its exports: it has none, its ops are
// registered with TensorFlow by the static initialisers above.
extern "C" void* napi_register_module_v1(void* /*env*/, void* exports) { return exports; }
`;
