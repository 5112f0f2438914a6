// The C++ source of @sgfd/tensor's own TensorFlow ops, as a string so that the engine build (tools/tensorflow)
// compiles the same text from a checkout and from a bundled worker; its sha256 keys the cached build.
export const CUSTOM_OPS_SOURCE = String.raw`// TensorFlow ops of @sgfd/tensor that TensorFlow's own op set cannot express without materialising large
// intermediates. Built with the native engine (tools/tensorflow) against the wheel's headers and loaded into
// the same process as the tfjs-node binding, so the ops run through the binding's eager executor by name.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#ifdef __AVX2__
#include <immintrin.h>
#endif
#include <vector>

#include "Eigen/Core"
#include "tensorflow/core/framework/common_shape_fns.h"
#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/resource_mgr.h"
#include "tensorflow/core/framework/resource_var.h"
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

// Runs work(begin, end) over [0, total) on the op's intra-op thread pool, at "cost" cycles a unit.
template <typename Work>
void ParallelFor(OpKernelContext* ctx, int64_t total, int64_t cost, Work&& work) {
  auto* workers = ctx->device()->tensorflow_cpu_worker_threads();
  tensorflow::Shard(workers->num_threads, workers->workers, total, cost, work);
}

// out[j] += sum_r m[r][j] over a row-major [rows, cols] block, rows in order. Eigen's colwise().sum() into a
// destination of varying alignment (a std::vector's, from malloc) sums some columns in another order run to
// run, which broke the same-seed promise by the last bit of a bias gradient.
static void AddColumnSums(const float* m, int64_t rows, int64_t cols, float* out) {
  for (int64_t r = 0; r < rows; r++)
    for (int64_t j = 0; j < cols; j++) out[j] += m[r * cols + j];
}

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
// are the doubled parts the stock-op path uses, so pre is half of their sum).
//
// One pass per tile of kTile pairs of one user, with pairs along the SIMD lanes throughout (the items'
// parts and embeddings are transposed once per call), so no step needs a horizontal reduction:
// 1. the tile's hidden layer tanh(pre) is written straight into the packed panels the product reads
//    (kNr pairs by hidden), with each pair's squared norm;
// 2. the product W2^T H^T runs on a 6 x kNr register tile (BLIS's shape for 16 vector registers): W2 is
//    packed once per call, each panel of H stays in L1 while every 6-row panel of W2 streams past it;
// 3. the epilogue (normalisation, bias, relu, softmax, weighted distance) runs on the product's columns.
// On office (2 cores, AVX2 + FMA) the product, 240 G multiply-adds, runs at about 90 % of the FMA peak,
// against about 55 % for Eigen's general product on the same tiles; tanh and exp are Eigen's packet functions.
namespace maml {
using Packet = Eigen::internal::packet_traits<float>::type;
constexpr int64_t kLanes = sizeof(Packet) / sizeof(float);
constexpr int64_t kNr = 2 * kLanes;  // pairs per panel of H: two packets
constexpr int64_t kMr = 6;           // rows of W2^T per packed panel
constexpr int64_t kTile = 256;       // pairs per tile; a multiple of kNr for every packet width
using AlignedFloats = std::vector<float, Eigen::aligned_allocator<float>>;

int64_t RoundUp(int64_t n, int64_t to) { return (n + to - 1) / to * to; }

// A row-major [rows, cols] matrix transposed into [cols, stride], columns past rows zero.
AlignedFloats Transposed(const float* m, int64_t rows, int64_t cols, int64_t stride) {
  AlignedFloats t(cols * stride, 0.0f);
  for (int64_t r = 0; r < rows; r++)
    for (int64_t c = 0; c < cols; c++) t[c * stride + r] = m[r * cols + c];
  return t;
}

// W2 [H, D] as panels [ceil(D / 6)][H][6] of W2^T (the last one's rows past D zero).
AlignedFloats PackedW2(const float* w2, int64_t hidden, int64_t d) {
  AlignedFloats p(RoundUp(d, kMr) * hidden, 0.0f);
  for (int64_t k = 0; k < hidden; k++)
    for (int64_t j = 0; j < d; j++) p[((j / kMr) * hidden + k) * kMr + j % kMr] = w2[k * d + j];
  return p;
}

// ct[i][0, kNr) = sum_k a[k][i] b[k][0, kNr) for the first Rows rows i of one W2 panel and one panel of H.
template <int Rows>
void ProductTile(const float* a, const float* b, int64_t hidden, float* ct, int64_t ldc) {
  using namespace Eigen::internal;
  Packet acc[Rows][2];
  for (int i = 0; i < Rows; i++) acc[i][0] = acc[i][1] = pset1<Packet>(0.0f);
  for (int64_t k = 0; k < hidden; k++) {
    Packet b0 = pload<Packet>(b + k * kNr), b1 = pload<Packet>(b + k * kNr + kLanes);
#if defined(__AVX512F__)
    asm("" : "+v"(b0), "+v"(b1));
#elif defined(__x86_64__)
    // Keeps H's packets in registers: the compiler would fold them into every FMA as memory operands,
    // and 18 loads per 12 FMAs make the loop load-bound (about 70 % of the FMA rate instead of 90 %).
    asm("" : "+x"(b0), "+x"(b1));
#endif
    for (int i = 0; i < Rows; i++) {
      const Packet av = pset1<Packet>(a[k * kMr + i]);
      acc[i][0] = pmadd(av, b0, acc[i][0]);
      acc[i][1] = pmadd(av, b1, acc[i][1]);
    }
  }
  for (int i = 0; i < Rows; i++) {
    pstore(ct + i * ldc, acc[i][0]);
    pstore(ct + i * ldc + kLanes, acc[i][1]);
  }
}

// The product's rows [0, d) for one panel of H: whole W2 panels, then the last one's d % 6 rows.
void ProductColumns(const float* w2_panels, const float* panel, int64_t hidden, int64_t d, float* ct, int64_t ldc) {
  int64_t g = 0;
  for (; (g + 1) * kMr <= d; g++) ProductTile<kMr>(w2_panels + g * hidden * kMr, panel, hidden, ct + g * kMr * ldc, ldc);
  const float* a = w2_panels + g * hidden * kMr;
  float* c = ct + g * kMr * ldc;
  switch (d - g * kMr) {
    case 1: return ProductTile<1>(a, panel, hidden, c, ldc);
    case 2: return ProductTile<2>(a, panel, hidden, c, ldc);
    case 3: return ProductTile<3>(a, panel, hidden, c, ldc);
    case 4: return ProductTile<4>(a, panel, hidden, c, ldc);
    case 5: return ProductTile<5>(a, panel, hidden, c, ldc);
    default: return;
  }
}
}  // namespace maml

class MamlScoresOp : public OpKernel {
 public:
  explicit MamlScoresOp(OpKernelConstruction* ctx) : OpKernel(ctx) { OP_REQUIRES_OK(ctx, ctx->GetAttr("scale", &scale_)); }

  void Compute(OpKernelContext* ctx) override {
    using namespace maml;
    using namespace Eigen::internal;
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
    const float* usq = user_sq.flat<float>().data();
    const float* isq = item_sq.flat<float>().data();
    const float* bias = bias2.flat<float>().data();
    const float* bout = b2.flat<float>().data();
    const float* ue = user_emb.flat<float>().data();
    float* scores = out->flat<float>().data();
    const float scale = scale_;
    // Items padded to whole panels of H (the padding's scores are computed and dropped).
    const int64_t padded = RoundUp(n_items, kNr);
    const AlignedFloats item_part_t = Transposed(item_part.flat<float>().data(), n_items, hidden, padded);
    const AlignedFloats item_emb_t = Transposed(item_emb.flat<float>().data(), n_items, d, padded);
    const AlignedFloats w2_panels = PackedW2(w2.flat<float>().data(), hidden, d);
    AlignedFloats half_b(hidden);
    for (int64_t k = 0; k < hidden; k++) half_b[k] = 0.5f * bias[k];

    const int64_t tiles_per_user = (n_items + kTile - 1) / kTile;
    const int64_t cost = kTile * hidden * (2 * d + 40);
    auto work = [&](int64_t begin, int64_t end) {
      AlignedFloats h(kTile * hidden), product(d * kTile), sq(kTile), half_inv_norm(kTile);
      alignas(64) float tile_scores[kLanes];
      const Packet zero = pset1<Packet>(0.0f);
      for (int64_t t = begin; t < end; t++) {
        const int64_t c = t / tiles_per_user, first = (t % tiles_per_user) * kTile;
        const int64_t rows = std::min<int64_t>(kTile, n_items - first), panels = (rows + kNr - 1) / kNr;
        for (int64_t r = 0; r < kTile; r++)
          half_inv_norm[r] = r < rows ? 0.5f / std::sqrt(std::max(usq[c] + isq[first + r], 1e-12f)) : 0.0f;
        // 1. tanh(pre) into panels [kTile / kNr][hidden][kNr], and each pair's |tanh(pre)|^2.
        const float* u = up + c * hidden;
        for (int64_t p = 0; p < panels; p++) {
          const float* items = item_part_t.data() + first + p * kNr;
          float* panel = h.data() + p * hidden * kNr;
          const Packet n0 = pload<Packet>(half_inv_norm.data() + p * kNr);
          const Packet n1 = pload<Packet>(half_inv_norm.data() + p * kNr + kLanes);
          Packet s0 = zero, s1 = zero;
          for (int64_t k = 0; k < hidden; k++) {
            const Packet uk = pset1<Packet>(u[k]), bk = pset1<Packet>(half_b[k]);
            const Packet t0 = ptanh(pmadd(padd(uk, ploadu<Packet>(items + k * padded)), n0, bk));
            const Packet t1 = ptanh(pmadd(padd(uk, ploadu<Packet>(items + k * padded + kLanes)), n1, bk));
            pstore(panel + k * kNr, t0);
            pstore(panel + k * kNr + kLanes, t1);
            s0 = pmadd(t0, t0, s0);
            s1 = pmadd(t1, t1, s1);
          }
          pstore(sq.data() + p * kNr, s0);
          pstore(sq.data() + p * kNr + kLanes, s1);
        }
        // 2. product [d, kTile] = W2^T H^T.
        for (int64_t p = 0; p < panels; p++)
          ProductColumns(w2_panels.data(), h.data() + p * hidden * kNr, hidden, d, product.data() + p * kNr, kTile);
        // 3. z = relu(product / |h| + b2); score = -scale^2 sum_d e_d^2 (i_d - u_d)^2 / (sum_d e_d)^2 with
        // e = exp(z - max z), which is -sum_d a_d^2 (u_d - i_d)^2 for a = scale e / sum e.
        const float* user_e = ue + c * d;
        for (int64_t r = 0; r < rows; r += kLanes) {
          const Packet inv = pdiv(pset1<Packet>(1.0f), psqrt(pmax(pload<Packet>(sq.data() + r), pset1<Packet>(1e-24f))));
          const float* col = product.data() + r;
          Packet top = zero;
          for (int64_t k = 0; k < d; k++)
            top = pmax(top, pmax(pmadd(pload<Packet>(col + k * kTile), inv, pset1<Packet>(bout[k])), zero));
          Packet sum = zero, weighted = zero;
          const float* items_e = item_emb_t.data() + first + r;
          for (int64_t k = 0; k < d; k++) {
            const Packet z = pmax(pmadd(pload<Packet>(col + k * kTile), inv, pset1<Packet>(bout[k])), zero);
            const Packet e = pexp(psub(z, top));
            sum = padd(sum, e);
            const Packet ed = pmul(e, psub(ploadu<Packet>(items_e + k * padded), pset1<Packet>(user_e[k])));
            weighted = pmadd(ed, ed, weighted);
          }
          pstore(tile_scores, pdiv(pmul(pset1<Packet>(-scale * scale), weighted), pmul(sum, sum)));
          std::copy(tile_scores, tile_scores + std::min<int64_t>(kLanes, rows - r), scores + c * n_items + first + r);
        }
      }
    };
    ParallelFor(ctx, n_users * tiles_per_user, cost, work);
  }

 private:
  float scale_;
};

REGISTER_KERNEL_BUILDER(Name("SgfdMamlScores").Device(tensorflow::DEVICE_CPU), MamlScoresOp);
REGISTER_OP("SgfdSampledDots")
    .Input("a: float")      // [R, D]
    .Input("b: float")      // [C, D]
    .Input("rows: int32")   // [E]
    .Input("cols: int32")   // [E]
    .Output("dots: float")  // [E]: <a[rows[e]], b[cols[e]]>
    .SetShapeFn([](tensorflow::shape_inference::InferenceContext* c) {
      c->set_output(0, c->Vector(c->Dim(c->input(2), 0)));
      return absl::OkStatus();
    });

// The sampled dot products of a sparse pattern (SDDMM without the values) in one pass over the edges:
// TensorFlow's ops would gather both [E, D] row sets into memory, multiply them and sum.
class SampledDotsOp : public OpKernel {
 public:
  explicit SampledDotsOp(OpKernelConstruction* ctx) : OpKernel(ctx) {}

  void Compute(OpKernelContext* ctx) override {
    const Tensor& a = ctx->input(0);
    const Tensor& b = ctx->input(1);
    const Tensor& rows = ctx->input(2);
    const Tensor& cols = ctx->input(3);
    OP_REQUIRES(ctx, a.dims() == 2 && b.dims() == 2 && a.dim_size(1) == b.dim_size(1),
                tensorflow::errors::InvalidArgument("SgfdSampledDots: a and b must be matrices of equal width"));
    OP_REQUIRES(ctx, rows.dims() == 1 && cols.dims() == 1 && rows.dim_size(0) == cols.dim_size(0),
                tensorflow::errors::InvalidArgument("SgfdSampledDots: rows and cols must be vectors of equal length"));
    const int64_t n_a = a.dim_size(0), n_b = b.dim_size(0), d = a.dim_size(1), n = rows.dim_size(0);
    const int32_t* r = rows.flat<int32_t>().data();
    const int32_t* c = cols.flat<int32_t>().data();
    for (int64_t e = 0; e < n; e++) {
      OP_REQUIRES(ctx, r[e] >= 0 && r[e] < n_a && c[e] >= 0 && c[e] < n_b,
                  tensorflow::errors::InvalidArgument("SgfdSampledDots: entry ", e, " is (", r[e], ", ", c[e],
                                                      "), outside [0, ", n_a, ") x [0, ", n_b, ")"));
    }
    Tensor* out = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, TensorShape({n}), &out));
    const float* pa = a.flat<float>().data();
    const float* pb = b.flat<float>().data();
    float* dots = out->flat<float>().data();
    auto work = [&](int64_t begin, int64_t end) {
      for (int64_t e = begin; e < end; e++) {
        const Eigen::Map<const Eigen::VectorXf> x(pa + r[e] * d, d), y(pb + c[e] * d, d);
        dots[e] = x.dot(y);
      }
    };
    ParallelFor(ctx, n, 3 * d, work);
  }
};

REGISTER_KERNEL_BUILDER(Name("SgfdSampledDots").Device(tensorflow::DEVICE_CPU), SampledDotsOp);
// Softmax over each row's entries of a CSR pattern (indptr [R + 1]), and its gradient: one pass per row,
// where TensorFlow's ops would gather each row's maximum and sum back to every entry.
static tensorflow::Status CheckIndptr(const Tensor& indptr, int64_t n) {
  if (indptr.dims() != 1 || indptr.dim_size(0) < 1)
    return tensorflow::errors::InvalidArgument("indptr must be a vector of at least one offset");
  const int32_t* p = indptr.flat<int32_t>().data();
  const int64_t rows = indptr.dim_size(0) - 1;
  if (p[0] != 0 || p[rows] != n)
    return tensorflow::errors::InvalidArgument("indptr must run from 0 to the ", n, " entries, found ", p[0], " to ",
                                               p[rows]);
  for (int64_t r = 0; r < rows; r++)
    if (p[r + 1] < p[r]) return tensorflow::errors::InvalidArgument("indptr decreases at row ", r);
  return absl::OkStatus();
}

REGISTER_OP("SgfdSegmentSoftmax")
    .Input("scores: float")  // [E]
    .Input("indptr: int32")  // [R + 1]
    .Output("out: float")    // [E]
    .SetShapeFn(tensorflow::shape_inference::UnchangedShape);

REGISTER_OP("SgfdSegmentSoftmaxGrad")
    .Input("out: float")     // [E]: the softmax's output
    .Input("dy: float")      // [E]
    .Input("indptr: int32")  // [R + 1]
    .Output("dx: float")     // [E]: out * (dy - sum over the row of out * dy)
    .SetShapeFn(tensorflow::shape_inference::UnchangedShape);

class SegmentSoftmaxOp : public OpKernel {
 public:
  explicit SegmentSoftmaxOp(OpKernelConstruction* ctx) : OpKernel(ctx) {}

  void Compute(OpKernelContext* ctx) override {
    const Tensor& scores = ctx->input(0);
    const Tensor& indptr = ctx->input(1);
    OP_REQUIRES(ctx, scores.dims() == 1, tensorflow::errors::InvalidArgument("SgfdSegmentSoftmax: scores must be a vector"));
    OP_REQUIRES_OK(ctx, CheckIndptr(indptr, scores.dim_size(0)));
    Tensor* out = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, scores.shape(), &out));
    const float* x = scores.flat<float>().data();
    const int32_t* p = indptr.flat<int32_t>().data();
    float* y = out->flat<float>().data();
    auto work = [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; r++) {
        if (p[r] == p[r + 1]) continue;
        float max_v = x[p[r]];
        for (int32_t e = p[r] + 1; e < p[r + 1]; e++) max_v = std::max(max_v, x[e]);
        float total = 0.0f;
        for (int32_t e = p[r]; e < p[r + 1]; e++) total += (y[e] = std::exp(x[e] - max_v));
        const float inv = 1.0f / total;
        for (int32_t e = p[r]; e < p[r + 1]; e++) y[e] *= inv;
      }
    };
    const int64_t rows = indptr.dim_size(0) - 1;
    const int64_t per_row = 40 * std::max<int64_t>(1, scores.dim_size(0) / std::max<int64_t>(1, rows));
    ParallelFor(ctx, rows, per_row, work);
  }
};

class SegmentSoftmaxGradOp : public OpKernel {
 public:
  explicit SegmentSoftmaxGradOp(OpKernelConstruction* ctx) : OpKernel(ctx) {}

  void Compute(OpKernelContext* ctx) override {
    const Tensor& out = ctx->input(0);
    const Tensor& dy = ctx->input(1);
    const Tensor& indptr = ctx->input(2);
    OP_REQUIRES(ctx, out.dims() == 1 && dy.dims() == 1 && out.dim_size(0) == dy.dim_size(0),
                tensorflow::errors::InvalidArgument("SgfdSegmentSoftmaxGrad: out and dy must be vectors of equal length"));
    OP_REQUIRES_OK(ctx, CheckIndptr(indptr, out.dim_size(0)));
    Tensor* dx = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, out.shape(), &dx));
    const float* y = out.flat<float>().data();
    const float* g = dy.flat<float>().data();
    const int32_t* p = indptr.flat<int32_t>().data();
    float* d = dx->flat<float>().data();
    auto work = [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; r++) {
        float dot = 0.0f;
        for (int32_t e = p[r]; e < p[r + 1]; e++) dot += y[e] * g[e];
        for (int32_t e = p[r]; e < p[r + 1]; e++) d[e] = y[e] * (g[e] - dot);
      }
    };
    const int64_t rows = indptr.dim_size(0) - 1;
    const int64_t per_row = 10 * std::max<int64_t>(1, out.dim_size(0) / std::max<int64_t>(1, rows));
    ParallelFor(ctx, rows, per_row, work);
  }
};

REGISTER_KERNEL_BUILDER(Name("SgfdSegmentSoftmax").Device(tensorflow::DEVICE_CPU), SegmentSoftmaxOp);
REGISTER_KERNEL_BUILDER(Name("SgfdSegmentSoftmaxGrad").Device(tensorflow::DEVICE_CPU), SegmentSoftmaxGradOp);
// Row-wise cosine similarity as torch.nn.functional.cosine_similarity (each norm clamped at eps), and its
// gradient: one pass per row each, where TensorFlow's ops take about forty small ops per similarity.
REGISTER_OP("SgfdRowCosine")
    .Input("a: float")  // [B, D]
    .Input("b: float")  // [B, D]
    .Attr("eps: float")
    .Output("cos: float")  // [B]
    .SetShapeFn([](tensorflow::shape_inference::InferenceContext* c) {
      c->set_output(0, c->Vector(c->Dim(c->input(0), 0)));
      return absl::OkStatus();
    });

REGISTER_OP("SgfdRowCosineGrad")
    .Input("a: float")
    .Input("b: float")
    .Input("dy: float")  // [B]
    .Attr("eps: float")
    .Output("da: float")
    .Output("db: float")
    .SetShapeFn([](tensorflow::shape_inference::InferenceContext* c) {
      c->set_output(0, c->input(0));
      c->set_output(1, c->input(1));
      return absl::OkStatus();
    });

static tensorflow::Status CheckRowPairs(const Tensor& a, const Tensor& b) {
  if (a.dims() != 2 || b.dims() != 2 || a.dim_size(0) != b.dim_size(0) || a.dim_size(1) != b.dim_size(1))
    return tensorflow::errors::InvalidArgument("a and b must be matrices of one shape, got ", a.shape().DebugString(),
                                               " and ", b.shape().DebugString());
  return absl::OkStatus();
}

class RowCosineOp : public OpKernel {
 public:
  explicit RowCosineOp(OpKernelConstruction* ctx) : OpKernel(ctx) { OP_REQUIRES_OK(ctx, ctx->GetAttr("eps", &eps_)); }

  void Compute(OpKernelContext* ctx) override {
    const Tensor& a = ctx->input(0);
    const Tensor& b = ctx->input(1);
    OP_REQUIRES_OK(ctx, CheckRowPairs(a, b));
    const int64_t n = a.dim_size(0), d = a.dim_size(1);
    Tensor* out = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, TensorShape({n}), &out));
    const ConstRowMap am(a.flat<float>().data(), n, d), bm(b.flat<float>().data(), n, d);
    float* cos = out->flat<float>().data();
    const float eps = eps_;
    auto work = [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; r++) {
        const float na = std::max(am.row(r).norm(), eps), nb = std::max(bm.row(r).norm(), eps);
        cos[r] = am.row(r).dot(bm.row(r)) / (na * nb);
      }
    };
    ParallelFor(ctx, n, 6 * d, work);
  }

 private:
  float eps_;
};

class RowCosineGradOp : public OpKernel {
 public:
  explicit RowCosineGradOp(OpKernelConstruction* ctx) : OpKernel(ctx) { OP_REQUIRES_OK(ctx, ctx->GetAttr("eps", &eps_)); }

  void Compute(OpKernelContext* ctx) override {
    const Tensor& a = ctx->input(0);
    const Tensor& b = ctx->input(1);
    const Tensor& dy = ctx->input(2);
    OP_REQUIRES_OK(ctx, CheckRowPairs(a, b));
    const int64_t n = a.dim_size(0), d = a.dim_size(1);
    OP_REQUIRES(ctx, dy.dims() == 1 && dy.dim_size(0) == n,
                tensorflow::errors::InvalidArgument("SgfdRowCosineGrad: dy must have one value per row"));
    Tensor *da = nullptr, *db = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, a.shape(), &da));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(1, b.shape(), &db));
    const ConstRowMap am(a.flat<float>().data(), n, d), bm(b.flat<float>().data(), n, d);
    Eigen::Map<RowMatrix> dam(da->flat<float>().data(), n, d), dbm(db->flat<float>().data(), n, d);
    const float* g = dy.flat<float>().data();
    const float eps = eps_;
    // d cos / da = b / (na nb) - cos a / na^2, the second term only where |a| is not clamped at eps.
    auto work = [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; r++) {
        const float la = am.row(r).norm(), lb = bm.row(r).norm();
        const float na = std::max(la, eps), nb = std::max(lb, eps);
        const float inv = 1.0f / (na * nb);
        const float cos = am.row(r).dot(bm.row(r)) * inv;
        const float ca = la >= eps ? cos / (na * na) : 0.0f, cb = lb >= eps ? cos / (nb * nb) : 0.0f;
        dam.row(r) = g[r] * (bm.row(r) * inv - am.row(r) * ca);
        dbm.row(r) = g[r] * (am.row(r) * inv - bm.row(r) * cb);
      }
    };
    ParallelFor(ctx, n, 12 * d, work);
  }

 private:
  float eps_;
};

REGISTER_KERNEL_BUILDER(Name("SgfdRowCosine").Device(tensorflow::DEVICE_CPU), RowCosineOp);
REGISTER_KERNEL_BUILDER(Name("SgfdRowCosineGrad").Device(tensorflow::DEVICE_CPU), RowCosineGradOp);

// Rows divided by their L2 norm as torch.nn.functional.normalize(x, dim=1), the norm clamped at eps (taken as
// sqrt(max(|x|^2, eps^2)), so an all-zero row has a finite gradient), and its gradient: one pass per row
// each, where TensorFlow's ops take five small ops forward and about fifteen backward.
REGISTER_OP("SgfdL2NormalizeRows")
    .Input("x: float")  // [B, D]
    .Attr("eps: float")
    .Output("y: float")  // [B, D]
    .SetShapeFn(tensorflow::shape_inference::UnchangedShape);

REGISTER_OP("SgfdL2NormalizeRowsGrad")
    .Input("x: float")
    .Input("dy: float")
    .Attr("eps: float")
    .Output("dx: float")
    .SetShapeFn(tensorflow::shape_inference::UnchangedShape);

class L2NormalizeRowsOp : public OpKernel {
 public:
  explicit L2NormalizeRowsOp(OpKernelConstruction* ctx) : OpKernel(ctx) { OP_REQUIRES_OK(ctx, ctx->GetAttr("eps", &eps_)); }

  void Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    OP_REQUIRES(ctx, x.dims() == 2,
                tensorflow::errors::InvalidArgument("SgfdL2NormalizeRows: x must be a matrix, got ", x.shape().DebugString()));
    const int64_t n = x.dim_size(0), d = x.dim_size(1);
    Tensor* y = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, x.shape(), &y));
    const ConstRowMap xm(x.flat<float>().data(), n, d);
    Eigen::Map<RowMatrix> ym(y->flat<float>().data(), n, d);
    const float eps2 = eps_ * eps_;
    auto work = [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; r++) ym.row(r) = xm.row(r) / std::sqrt(std::max(xm.row(r).squaredNorm(), eps2));
    };
    ParallelFor(ctx, n, 4 * d, work);
  }

 private:
  float eps_;
};

class L2NormalizeRowsGradOp : public OpKernel {
 public:
  explicit L2NormalizeRowsGradOp(OpKernelConstruction* ctx) : OpKernel(ctx) {
    OP_REQUIRES_OK(ctx, ctx->GetAttr("eps", &eps_));
  }

  void Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    const Tensor& dy = ctx->input(1);
    OP_REQUIRES_OK(ctx, CheckRowPairs(x, dy));
    const int64_t n = x.dim_size(0), d = x.dim_size(1);
    Tensor* dx = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, x.shape(), &dx));
    const ConstRowMap xm(x.flat<float>().data(), n, d), gm(dy.flat<float>().data(), n, d);
    Eigen::Map<RowMatrix> dxm(dx->flat<float>().data(), n, d);
    const float eps2 = eps_ * eps_;
    // y = x / n: dx = (dy - y <y, dy>) / n, where n = |x|; a clamped norm (n = eps) is a constant, so dx = dy / eps.
    auto work = [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; r++) {
        const float s = xm.row(r).squaredNorm();
        if (s >= eps2) {
          const float norm = std::sqrt(s);
          const float proj = xm.row(r).dot(gm.row(r)) / s;
          dxm.row(r) = (gm.row(r) - xm.row(r) * proj) / norm;
        } else {
          dxm.row(r) = gm.row(r) / eps_;
        }
      }
    };
    ParallelFor(ctx, n, 8 * d, work);
  }

 private:
  float eps_;
};

REGISTER_KERNEL_BUILDER(Name("SgfdL2NormalizeRows").Device(tensorflow::DEVICE_CPU), L2NormalizeRowsOp);
REGISTER_KERNEL_BUILDER(Name("SgfdL2NormalizeRowsGrad").Device(tensorflow::DEVICE_CPU), L2NormalizeRowsGradOp);

// SGFD's extractor head on a linear layer's product: y = normalize(leaky(x + bias)) (LeakyReLU with slope, then
// rows divided by max(|row|, eps) as SgfdL2NormalizeRows), and its gradient to x and bias. One op each way for
// what is an add, a LeakyReLU and the normalisation forward and five ops backward. A [0] bias means none.
REGISTER_OP("SgfdBiasLeakyNormalize")
    .Input("x: float")     // [B, D]
    .Input("bias: float")  // [D], [1, D] or [0]
    .Attr("slope: float")
    .Attr("eps: float")
    .Output("y: float")  // [B, D]
    .SetShapeFn(tensorflow::shape_inference::UnchangedShape);

REGISTER_OP("SgfdBiasLeakyNormalizeGrad")
    .Input("x: float")
    .Input("bias: float")
    .Input("dy: float")
    .Attr("slope: float")
    .Attr("eps: float")
    .Output("dx: float")     // [B, D]
    .Output("dbias: float")  // the bias's shape
    .SetShapeFn([](tensorflow::shape_inference::InferenceContext* c) {
      c->set_output(0, c->input(0));
      c->set_output(1, c->input(1));
      return absl::OkStatus();
    });

class BiasLeakyNormalizeBase : public OpKernel {
 public:
  explicit BiasLeakyNormalizeBase(OpKernelConstruction* ctx) : OpKernel(ctx) {
    OP_REQUIRES_OK(ctx, ctx->GetAttr("slope", &slope_));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("eps", &eps_));
  }

 protected:
  // Checks x [B, D] and bias [D], [1, D] or [0]; false (with the error set) when they do not fit.
  bool CheckInputs(OpKernelContext* ctx, const Tensor& x, const Tensor& bias, const char* op) {
    if (x.dims() != 2) {
      ctx->SetStatus(tensorflow::errors::InvalidArgument(op, ": x must be a matrix, got ", x.shape().DebugString()));
      return false;
    }
    const bool row = bias.dims() == 1 || (bias.dims() == 2 && bias.dim_size(0) == 1);
    if (!row || (bias.NumElements() != 0 && bias.NumElements() != x.dim_size(1))) {
      ctx->SetStatus(tensorflow::errors::InvalidArgument(op, ": bias must be [", x.dim_size(1), "], [1, ", x.dim_size(1),
                                                         "] or [0], got ", bias.shape().DebugString()));
      return false;
    }
    return true;
  }

  // The rows z = x + bias (bias broadcast over rows; a [0] bias adds nothing) as Eigen arrays.
  using RowArray = Eigen::Array<float, 1, Eigen::Dynamic>;
  using ConstRowArrayMap = Eigen::Map<const RowArray>;
  using RowArrayMap = Eigen::Map<RowArray>;

  // out = leaky(z) for one row; returns |leaky(z)|^2.
  float Activate(const float* x, const float* bias, int64_t d, float* out) const {
    RowArrayMap a(out, d);
    if (bias)
      a = ConstRowArrayMap(x, d) + ConstRowArrayMap(bias, d);
    else
      a = ConstRowArrayMap(x, d);
    a = a.max(0.0f) + slope_ * a.min(0.0f);
    return a.matrix().squaredNorm();
  }

  float slope_;
  float eps_;
};

class BiasLeakyNormalizeOp : public BiasLeakyNormalizeBase {
 public:
  using BiasLeakyNormalizeBase::BiasLeakyNormalizeBase;

  void Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    const Tensor& bias = ctx->input(1);
    if (!CheckInputs(ctx, x, bias, "SgfdBiasLeakyNormalize")) return;
    const int64_t n = x.dim_size(0), d = x.dim_size(1);
    Tensor* y = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, x.shape(), &y));
    const float* xp = x.flat<float>().data();
    const float* bp = bias.NumElements() ? bias.flat<float>().data() : nullptr;
    float* yp = y->flat<float>().data();
    const float eps2 = eps_ * eps_;
    auto work = [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; r++) {
        const float sq = Activate(xp + r * d, bp, d, yp + r * d);
        RowArrayMap(yp + r * d, d) *= 1.0f / std::sqrt(std::max(sq, eps2));
      }
    };
    ParallelFor(ctx, n, 6 * d, work);
  }
};

class BiasLeakyNormalizeGradOp : public BiasLeakyNormalizeBase {
 public:
  using BiasLeakyNormalizeBase::BiasLeakyNormalizeBase;

  void Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    const Tensor& bias = ctx->input(1);
    const Tensor& dy = ctx->input(2);
    if (!CheckInputs(ctx, x, bias, "SgfdBiasLeakyNormalizeGrad")) return;
    OP_REQUIRES_OK(ctx, CheckRowPairs(x, dy));
    const int64_t n = x.dim_size(0), d = x.dim_size(1);
    Tensor* dx = nullptr;
    Tensor* dbias = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, x.shape(), &dx));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(1, bias.shape(), &dbias));
    const float* xp = x.flat<float>().data();
    const float* bp = bias.NumElements() ? bias.flat<float>().data() : nullptr;
    const float* gp = dy.flat<float>().data();
    float* dxp = dx->flat<float>().data();
    const float eps2 = eps_ * eps_;
    // With a = leaky(z), y = a / |a|: da = (dy - a <a, dy> / |a|^2) / |a| (dy / eps where the norm is clamped,
    // a constant); dz = da where z > 0, slope da elsewhere (tfjs's LeakyRelu gradient at 0).
    auto work = [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; r++) {
        const ConstRowArrayMap g(gp + r * d, d);
        const ConstRowArrayMap xr(xp + r * d, d);
        RowArrayMap out(dxp + r * d, d);
        const float sq = Activate(xp + r * d, bp, d, dxp + r * d);
        float scale = 1.0f / eps_, proj = 0;
        if (sq >= eps2) {
          scale = 1.0f / std::sqrt(sq);
          proj = out.matrix().dot(g.matrix()) / sq;
        }
        out = (g - out * proj) * scale;
        if (bp)
          out = (xr + ConstRowArrayMap(bp, d) > 0.0f).select(out, slope_ * out);
        else
          out = (xr > 0.0f).select(out, slope_ * out);
      }
    };
    ParallelFor(ctx, n, 10 * d, work);
    if (bp) {
      float* db = dbias->flat<float>().data();
      std::fill(db, db + d, 0.0f);
      AddColumnSums(dxp, n, d, db);
    }
  }
};

REGISTER_KERNEL_BUILDER(Name("SgfdBiasLeakyNormalize").Device(tensorflow::DEVICE_CPU), BiasLeakyNormalizeOp);
REGISTER_KERNEL_BUILDER(Name("SgfdBiasLeakyNormalizeGrad").Device(tensorflow::DEVICE_CPU), BiasLeakyNormalizeGradOp);

// Inverted dropout x * mask in one pass, the mask drawn exactly as StatelessRandomUniform(shape(x), seed)
// >= rate would draw it (TensorFlow's Philox-4x32-10 stream: same key and counter from the seed, four values
// per counter step, the 23 low bits of each as a float in [0, 1)), so it equals the stock-op mask to the bit.
// Its gradient is the same op applied to dy.
REGISTER_OP("SgfdStatelessDropout")
    .Input("x: float")
    .Input("seed: int32")     // [2]: StatelessRandomUniform's seed
    .Attr("rate: float")      // entries whose uniform draw is below rate are dropped
    .Attr("keep_scale: float")  // what kept entries are multiplied by: 1 / (1 - rate) as float32
    .Output("y: float")
    .SetShapeFn(tensorflow::shape_inference::UnchangedShape);

struct Philox4x32 {
  uint32_t counter[4];
  uint32_t key[2];

  void Next(uint32_t out[4]) {
    uint32_t c[4] = {counter[0], counter[1], counter[2], counter[3]};
    uint32_t k0 = key[0], k1 = key[1];
    for (int round = 0; round < 10; round++) {
      const uint64_t p0 = static_cast<uint64_t>(0xD2511F53u) * c[0];
      const uint64_t p1 = static_cast<uint64_t>(0xCD9E8D57u) * c[2];
      const uint32_t r0 = static_cast<uint32_t>(p1 >> 32) ^ c[1] ^ k0;
      const uint32_t r1 = static_cast<uint32_t>(p1);
      const uint32_t r2 = static_cast<uint32_t>(p0 >> 32) ^ c[3] ^ k1;
      const uint32_t r3 = static_cast<uint32_t>(p0);
      c[0] = r0; c[1] = r1; c[2] = r2; c[3] = r3;
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    for (int i = 0; i < 4; i++) out[i] = c[i];
    if (++counter[0] == 0 && ++counter[1] == 0 && ++counter[2] == 0) ++counter[3];
  }
};

static float Uint32ToUnitFloat(uint32_t bits) {
  const uint32_t value = (127u << 23) | (bits & 0x7fffffu);
  float result;
  std::memcpy(&result, &value, sizeof(value));
  return result - 1.0f;
}

// StatelessRandomUniform's key and counter for a seed pair (TensorFlow's GenerateKey: the seed is scrambled
// by one Philox step so either half may be weak).
static Philox4x32 PhiloxForSeed(int32_t seed0, int32_t seed1) {
  const uint64_t s0 = static_cast<uint64_t>(static_cast<int64_t>(seed0));
  const uint64_t s1 = static_cast<uint64_t>(static_cast<int64_t>(seed1));
  Philox4x32 mixer{{static_cast<uint32_t>(s0), static_cast<uint32_t>(s0 >> 32), static_cast<uint32_t>(s1),
                    static_cast<uint32_t>(s1 >> 32)},
                   {0x3ec8f720u, 0x02461e29u}};
  uint32_t mix[4];
  mixer.Next(mix);
  return Philox4x32{{0, 0, mix[2], mix[3]}, {mix[0], mix[1]}};
}

// The dropout of values [4 begin, 4 end) (and below n) from counter steps begin..end-1, one step at a time.
static void DropoutStepsScalar(const Philox4x32& base, int64_t begin, int64_t end, int64_t n, const float* in,
                               float* out, float rate, float keep) {
  for (int64_t g = begin; g < end; g++) {
    Philox4x32 gen{{static_cast<uint32_t>(g), static_cast<uint32_t>(static_cast<uint64_t>(g) >> 32), base.counter[2],
                    base.counter[3]},
                   {base.key[0], base.key[1]}};
    uint32_t bits[4];
    gen.Next(bits);
    for (int64_t j = 0; j < 4 && 4 * g + j < n; j++)
      out[4 * g + j] = in[4 * g + j] * (Uint32ToUnitFloat(bits[j]) >= rate ? keep : 0.0f);
  }
}

#ifdef __AVX2__
// 32-bit lanes a * m as their low and high 32-bit halves (vpmuludq multiplies the even lanes only).
static inline void MulHiLo(__m256i a, __m256i m, __m256i* lo, __m256i* hi) {
  const __m256i even = _mm256_mul_epu32(a, m);
  const __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), m);
  *lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
  *hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
}

// Eight counter steps at a time in AVX2 lanes (six times the scalar loop here); the 4 x 8 results are
// transposed back to stream order before the mask is applied. A partial block goes to the scalar loop.
static void DropoutSteps(const Philox4x32& base, int64_t begin, int64_t end, int64_t n, const float* in, float* out,
                         float rate, float keep) {
  constexpr int64_t kLanes = 8;
  const __m256i ma = _mm256_set1_epi32(static_cast<int>(0xD2511F53u));
  const __m256i mb = _mm256_set1_epi32(static_cast<int>(0xCD9E8D57u));
  const __m256i mantissa = _mm256_set1_epi32(0x7fffff), one_bits = _mm256_set1_epi32(127 << 23);
  const __m256 one = _mm256_set1_ps(1.0f), vrate = _mm256_set1_ps(rate), vkeep = _mm256_set1_ps(keep);
  int64_t first = begin;
  for (; first + kLanes <= end && 4 * (first + kLanes) <= n; first += kLanes) {
    const uint64_t g = static_cast<uint64_t>(first);
    __m256i c0 = _mm256_add_epi32(_mm256_set1_epi32(static_cast<int>(static_cast<uint32_t>(g))),
                                  _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    __m256i c1 = _mm256_set1_epi32(static_cast<int>(static_cast<uint32_t>(g >> 32)));
    __m256i c2 = _mm256_set1_epi32(static_cast<int>(base.counter[2]));
    __m256i c3 = _mm256_set1_epi32(static_cast<int>(base.counter[3]));
    uint32_t k0 = base.key[0], k1 = base.key[1];
    for (int round = 0; round < 10; round++) {
      __m256i lo0, hi0, lo1, hi1;
      MulHiLo(c0, ma, &lo0, &hi0);
      MulHiLo(c2, mb, &lo1, &hi1);
      const __m256i r0 = _mm256_xor_si256(_mm256_xor_si256(hi1, c1), _mm256_set1_epi32(static_cast<int>(k0)));
      const __m256i r2 = _mm256_xor_si256(_mm256_xor_si256(hi0, c3), _mm256_set1_epi32(static_cast<int>(k1)));
      c0 = r0;
      c1 = lo1;
      c2 = r2;
      c3 = lo0;
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    const __m256i t0 = _mm256_unpacklo_epi32(c0, c1), t1 = _mm256_unpackhi_epi32(c0, c1);
    const __m256i t2 = _mm256_unpacklo_epi32(c2, c3), t3 = _mm256_unpackhi_epi32(c2, c3);
    const __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);
    const __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);
    const __m256i ordered[4] = {_mm256_permute2x128_si256(u0, u1, 0x20), _mm256_permute2x128_si256(u2, u3, 0x20),
                                _mm256_permute2x128_si256(u0, u1, 0x31), _mm256_permute2x128_si256(u2, u3, 0x31)};
    for (int q = 0; q < 4; q++) {
      const __m256 bits_as_float = _mm256_castsi256_ps(_mm256_or_si256(_mm256_and_si256(ordered[q], mantissa), one_bits));
      const __m256 scale = _mm256_and_ps(_mm256_cmp_ps(_mm256_sub_ps(bits_as_float, one), vrate, _CMP_GE_OQ), vkeep);
      _mm256_storeu_ps(out + 4 * first + 8 * q, _mm256_mul_ps(_mm256_loadu_ps(in + 4 * first + 8 * q), scale));
    }
  }
  DropoutStepsScalar(base, first, end, n, in, out, rate, keep);
}
#else
static void DropoutSteps(const Philox4x32& base, int64_t begin, int64_t end, int64_t n, const float* in, float* out,
                         float rate, float keep) {
  DropoutStepsScalar(base, begin, end, n, in, out, rate, keep);
}
#endif

class StatelessDropoutOp : public OpKernel {
 public:
  explicit StatelessDropoutOp(OpKernelConstruction* ctx) : OpKernel(ctx) {
    OP_REQUIRES_OK(ctx, ctx->GetAttr("rate", &rate_));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("keep_scale", &keep_scale_));
  }

  void Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    const Tensor& seed = ctx->input(1);
    OP_REQUIRES(ctx, seed.dims() == 1 && seed.dim_size(0) == 2,
                tensorflow::errors::InvalidArgument("SgfdStatelessDropout: seed must have 2 values, got shape ",
                                                    seed.shape().DebugString()));
    Tensor* y = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, x.shape(), &y));
    const int64_t n = x.NumElements();
    OP_REQUIRES(ctx, n / 4 < (int64_t{1} << 32),
                tensorflow::errors::InvalidArgument("SgfdStatelessDropout: at most 2^34 values, got ", n));
    const Philox4x32 base = PhiloxForSeed(seed.flat<int32_t>()(0), seed.flat<int32_t>()(1));
    const float* in = x.flat<float>().data();
    float* out = y->flat<float>().data();
    const float rate = rate_, keep = keep_scale_;
    // Work unit: one counter step (4 values). The key's counter starts at (0, 0, c2, c3), so step g's counter is
    // (low 32 bits of g, high 32 bits, c2, c3), and any shard can start mid-stream.
    auto work = [&](int64_t begin, int64_t end) { DropoutSteps(base, begin, end, n, in, out, rate, keep); };
    ParallelFor(ctx, (n + 3) / 4, 16, work);
  }

 private:
  float rate_;
  float keep_scale_;
};

REGISTER_KERNEL_BUILDER(Name("SgfdStatelessDropout").Device(tensorflow::DEVICE_CPU), StatelessDropoutOp);

// A CSR structure's problems: offsets not from 0 to nnz or decreasing, a column outside [0, n_cols), or values
// not one per entry; the message names the first offending row or entry.
static tensorflow::Status CheckCsr(const Tensor& indptr, const Tensor& indices, const Tensor& values, int64_t n_cols) {
  const int64_t n_rows = indptr.dim_size(0) - 1, nnz = indices.dim_size(0);
  if (values.dim_size(0) != nnz)
    return tensorflow::errors::InvalidArgument("CSR matrix: ", nnz, " indices but ", values.dim_size(0), " values");
  const int32_t* ptr = indptr.flat<int32_t>().data();
  const int32_t* col = indices.flat<int32_t>().data();
  if (ptr[0] != 0 || ptr[n_rows] != nnz)
    return tensorflow::errors::InvalidArgument("CSR matrix: indptr must run from 0 to the ", nnz, " entries, found ",
                                               ptr[0], " to ", ptr[n_rows]);
  for (int64_t r = 0; r < n_rows; r++)
    if (ptr[r] > ptr[r + 1]) return tensorflow::errors::InvalidArgument("CSR matrix: indptr decreases at row ", r);
  for (int64_t e = 0; e < nnz; e++)
    if (col[e] < 0 || col[e] >= n_cols)
      return tensorflow::errors::InvalidArgument("CSR matrix: entry ", e, " has column ", col[e], ", outside [0, ",
                                                 n_cols, ")");
  return absl::OkStatus();
}

// Rows [begin, end) of A x for A in CSR form: each row's sum of val * x[col] is formed in acc and handed to
// emit(r, acc), which writes it where the op wants it. Width is the row width when it is known at compile
// time: for 64 (the backbones' embedding size) Eigen unrolls each row update into eight AVX2 multiply-adds,
// 1.5x the dynamic-width loop.
template <int Width, typename Emit>
static void CsrRowsOf(const int32_t* ptr, const int32_t* col, const float* val, const float* x, int64_t d,
                      int64_t begin, int64_t end, Emit&& emit) {
  using Row = Eigen::Matrix<float, 1, Width>;
  Row acc(1, d);
  for (int64_t r = begin; r < end; r++) {
    acc.setZero();
    for (int32_t e = ptr[r]; e < ptr[r + 1]; e++) acc.noalias() += val[e] * Eigen::Map<const Row>(x + col[e] * d, 1, d);
    emit(r, acc.data());
  }
}

#ifdef __AVX2__
// Width 64 with the accumulator in eight registers and the source rows of the entries a few ahead
// prefetched: the rows are gathered at random from a matrix larger than L2, and without the prefetch each
// entry waits on its four cache lines (LightGCN's propagation over office's graph: 2.98 -> 2.49 ms median
// inside a training step, alternated).
template <typename Emit>
static void CsrRows64(const int32_t* ptr, const int32_t* col, const float* val, const float* x, int64_t begin,
                      int64_t end, Emit&& emit) {
  constexpr int32_t kAhead = 6;
  const int32_t last = ptr[end];
  alignas(32) float out[64];
  for (int64_t r = begin; r < end; r++) {
    __m256 acc[8];
    for (int q = 0; q < 8; q++) acc[q] = _mm256_setzero_ps();
    for (int32_t e = ptr[r]; e < ptr[r + 1]; e++) {
      if (e + kAhead < last) {
        const char* ahead = reinterpret_cast<const char*>(x + static_cast<int64_t>(col[e + kAhead]) * 64);
        for (int line = 0; line < 4; line++) _mm_prefetch(ahead + 64 * line, _MM_HINT_T0);
      }
      const float* row = x + static_cast<int64_t>(col[e]) * 64;
      const __m256 v = _mm256_set1_ps(val[e]);
      for (int q = 0; q < 8; q++) acc[q] = _mm256_fmadd_ps(v, _mm256_loadu_ps(row + 8 * q), acc[q]);
    }
    for (int q = 0; q < 8; q++) _mm256_store_ps(out + 8 * q, acc[q]);
    emit(r, static_cast<const float*>(out));
  }
}
#endif

template <typename Emit>
static void CsrRows(const int32_t* ptr, const int32_t* col, const float* val, const float* x, int64_t d,
                    int64_t begin, int64_t end, Emit&& emit) {
#ifdef __AVX2__
  if (d == 64) return CsrRows64(ptr, col, val, x, begin, end, emit);
#endif
  if (d == 64) return CsrRowsOf<64>(ptr, col, val, x, d, begin, end, emit);
  CsrRowsOf<Eigen::Dynamic>(ptr, col, val, x, d, begin, end, emit);
}

// y = A x for A in CSR form (row offsets, column indices, values) and a dense x: one pass per output row,
// rows split over the thread pool. TensorFlow's SparseTensorDenseMatMul takes COO coordinates (twice the
// index bytes to upload) and its adjoint product scatters into shared rows; here the adjoint is the same op on
// the transposed structure, which the caller keeps.
REGISTER_OP("SgfdCsrMatMul")
    .Input("indptr: int32")   // [R + 1]
    .Input("indices: int32")  // [nnz]
    .Input("values: float")   // [nnz]
    .Input("x: float")        // [C, D]
    .Output("y: float")       // [R, D]
    .SetShapeFn([](tensorflow::shape_inference::InferenceContext* c) {
      c->set_output(0, c->UnknownShapeOfRank(2));
      return absl::OkStatus();
    });

class CsrMatMulOp : public OpKernel {
 public:
  explicit CsrMatMulOp(OpKernelConstruction* ctx) : OpKernel(ctx) {}

  void Compute(OpKernelContext* ctx) override {
    const Tensor& indptr = ctx->input(0);
    const Tensor& indices = ctx->input(1);
    const Tensor& values = ctx->input(2);
    const Tensor& x = ctx->input(3);
    OP_REQUIRES(ctx, indptr.dims() == 1 && indptr.dim_size(0) >= 1 && indices.dims() == 1 && values.dims() == 1 && x.dims() == 2,
                tensorflow::errors::InvalidArgument("SgfdCsrMatMul: indptr, indices and values must be vectors and x a matrix, got ",
                                                    indptr.shape().DebugString(), ", ", indices.shape().DebugString(), ", ",
                                                    values.shape().DebugString(), ", ", x.shape().DebugString()));
    const int64_t n_rows = indptr.dim_size(0) - 1, nnz = indices.dim_size(0), n_cols = x.dim_size(0), d = x.dim_size(1);
    OP_REQUIRES_OK(ctx, CheckCsr(indptr, indices, values, n_cols));
    const int32_t* ptr = indptr.flat<int32_t>().data();
    const int32_t* col = indices.flat<int32_t>().data();
    Tensor* y = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, TensorShape({n_rows, d}), &y));
    const float* val = values.flat<float>().data();
    const float* xd = x.flat<float>().data();
    float* yd = y->flat<float>().data();
    auto work = [&](int64_t begin, int64_t end) {
      CsrRows(ptr, col, val, xd, d, begin, end, [&](int64_t r, const float* acc) { std::copy_n(acc, d, yd + r * d); });
    };
    const int64_t per_row = n_rows > 0 ? (nnz + n_rows - 1) / n_rows : 0;
    ParallelFor(ctx, n_rows, (2 * per_row + 1) * d, work);
  }
};

REGISTER_KERNEL_BUILDER(Name("SgfdCsrMatMul").Device(tensorflow::DEVICE_CPU), CsrMatMulOp);

// BPR's score gap <u, neg> - <u, pos> of every row of a batch, and its gradient: one pass each, where
// TensorFlow's ops take five small ops forward and about twelve backward on [B, D] operands.
REGISTER_OP("SgfdBprGap")
    .Input("u: float")    // [B, D]
    .Input("pos: float")  // [B, D]
    .Input("neg: float")  // [B, D]
    .Output("gap: float")  // [B]
    .SetShapeFn([](tensorflow::shape_inference::InferenceContext* c) {
      c->set_output(0, c->Vector(c->Dim(c->input(0), 0)));
      return absl::OkStatus();
    });

REGISTER_OP("SgfdBprGapGrad")
    .Input("u: float")
    .Input("pos: float")
    .Input("neg: float")
    .Input("dy: float")  // [B]
    .Output("du: float")
    .Output("dpos: float")
    .Output("dneg: float")
    .SetShapeFn([](tensorflow::shape_inference::InferenceContext* c) {
      for (int i = 0; i < 3; i++) c->set_output(i, c->input(0));
      return absl::OkStatus();
    });

static tensorflow::Status CheckBprRows(const Tensor& u, const Tensor& pos, const Tensor& neg) {
  TF_RETURN_IF_ERROR(CheckRowPairs(u, pos));
  return CheckRowPairs(u, neg);
}

class BprGapOp : public OpKernel {
 public:
  explicit BprGapOp(OpKernelConstruction* ctx) : OpKernel(ctx) {}

  void Compute(OpKernelContext* ctx) override {
    const Tensor& u = ctx->input(0);
    const Tensor& pos = ctx->input(1);
    const Tensor& neg = ctx->input(2);
    OP_REQUIRES_OK(ctx, CheckBprRows(u, pos, neg));
    const int64_t n = u.dim_size(0), d = u.dim_size(1);
    Tensor* out = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, TensorShape({n}), &out));
    const ConstRowMap um(u.flat<float>().data(), n, d), pm(pos.flat<float>().data(), n, d),
        nm(neg.flat<float>().data(), n, d);
    float* gap = out->flat<float>().data();
    auto work = [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; r++) gap[r] = um.row(r).dot(nm.row(r) - pm.row(r));
    };
    ParallelFor(ctx, n, 4 * d, work);
  }
};

class BprGapGradOp : public OpKernel {
 public:
  explicit BprGapGradOp(OpKernelConstruction* ctx) : OpKernel(ctx) {}

  void Compute(OpKernelContext* ctx) override {
    const Tensor& u = ctx->input(0);
    const Tensor& pos = ctx->input(1);
    const Tensor& neg = ctx->input(2);
    const Tensor& dy = ctx->input(3);
    OP_REQUIRES_OK(ctx, CheckBprRows(u, pos, neg));
    const int64_t n = u.dim_size(0), d = u.dim_size(1);
    OP_REQUIRES(ctx, dy.dims() == 1 && dy.dim_size(0) == n,
                tensorflow::errors::InvalidArgument("SgfdBprGapGrad: dy must have one value per row"));
    Tensor *du = nullptr, *dpos = nullptr, *dneg = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, u.shape(), &du));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(1, u.shape(), &dpos));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(2, u.shape(), &dneg));
    const ConstRowMap um(u.flat<float>().data(), n, d), pm(pos.flat<float>().data(), n, d),
        nm(neg.flat<float>().data(), n, d);
    Eigen::Map<RowMatrix> dum(du->flat<float>().data(), n, d), dpm(dpos->flat<float>().data(), n, d),
        dnm(dneg->flat<float>().data(), n, d);
    const float* g = dy.flat<float>().data();
    auto work = [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; r++) {
        dum.row(r) = g[r] * (nm.row(r) - pm.row(r));
        dnm.row(r) = g[r] * um.row(r);
        dpm.row(r) = -dnm.row(r);
      }
    };
    ParallelFor(ctx, n, 6 * d, work);
  }
};

REGISTER_KERNEL_BUILDER(Name("SgfdBprGap").Device(tensorflow::DEVICE_CPU), BprGapOp);
REGISTER_KERNEL_BUILDER(Name("SgfdBprGapGrad").Device(tensorflow::DEVICE_CPU), BprGapGradOp);

// The k largest entries of every row, best first, ties to the lower column and NaN ranked as -infinity (as
// @sgfd/tensor's topK in JavaScript): one pass per row keeping the k best in order, so most entries cost one
// comparison with the current k-th best. TensorFlow's TopKV2 took 12 ms on a 1,743 x 2,406 block at k = 10.
REGISTER_OP("SgfdTopK")
    .Input("x: float")  // [R, C]
    .Attr("k: int >= 1")
    .Output("values: float")   // [R, min(k, C)]
    .Output("indices: int32")  // [R, min(k, C)]
    .SetShapeFn([](tensorflow::shape_inference::InferenceContext* c) {
      c->set_output(0, c->UnknownShapeOfRank(2));
      c->set_output(1, c->UnknownShapeOfRank(2));
      return absl::OkStatus();
    });

class TopKOp : public OpKernel {
 public:
  explicit TopKOp(OpKernelConstruction* ctx) : OpKernel(ctx) { OP_REQUIRES_OK(ctx, ctx->GetAttr("k", &k_)); }

  void Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    OP_REQUIRES(ctx, x.dims() == 2,
                tensorflow::errors::InvalidArgument("SgfdTopK: x must be a matrix, got ", x.shape().DebugString()));
    const int64_t n_rows = x.dim_size(0), n_cols = x.dim_size(1);
    const int64_t k = std::min<int64_t>(k_, n_cols);
    Tensor *values = nullptr, *indices = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, TensorShape({n_rows, k}), &values));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(1, TensorShape({n_rows, k}), &indices));
    const float* in = x.flat<float>().data();
    float* out_values = values->flat<float>().data();
    int32_t* out_indices = indices->flat<int32_t>().data();
    auto work = [&](int64_t begin, int64_t end) {
      std::vector<float> best(k);
      std::vector<int32_t> at(k);
      for (int64_t r = begin; r < end; r++) {
        const float* row = in + r * n_cols;
        int64_t count = 0;
        for (int64_t j = 0; j < n_cols; j++) {
#ifdef __AVX2__
          // Once k are kept, skip eight entries at a time while none beats the k-th best (NaN never does).
          if (count == k) {
            const __m256 bar = _mm256_set1_ps(best[k - 1]);
            while (j + 8 <= n_cols && _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(row + j), bar, _CMP_GT_OQ)) == 0)
              j += 8;
            if (j == n_cols) break;
          }
#endif
          const float v = std::isnan(row[j]) ? -INFINITY : row[j];
          // Columns arrive in increasing order, so an entry equal to a kept one ranks after it.
          if (count == k && !(v > best[k - 1])) continue;
          int64_t slot = count < k ? count++ : k - 1;
          while (slot > 0 && v > best[slot - 1]) {
            best[slot] = best[slot - 1];
            at[slot] = at[slot - 1];
            slot--;
          }
          best[slot] = v;
          at[slot] = static_cast<int32_t>(j);
        }
        for (int64_t q = 0; q < k; q++) {
          out_indices[r * k + q] = at[q];
          out_values[r * k + q] = row[at[q]];
        }
      }
    };
    ParallelFor(ctx, n_rows, 2 * n_cols, work);
  }

 private:
  int64_t k_;
};

REGISTER_KERNEL_BUILDER(Name("SgfdTopK").Device(tensorflow::DEVICE_CPU), TopKOp);

// LightGCN's layer mean (x + A x + ... + A^L x) / (L + 1) for a square CSR matrix A over the rows of x given
// as two parts (users, then items), returned as the same two parts: the propagation's passes, the sum and
// the scaling in one op, without the concatenation and split around it. Its gradient is the same op on the
// transpose of A.
REGISTER_OP("SgfdPropagationMean")
    .Input("indptr: int32")   // [N + 1]
    .Input("indices: int32")  // [nnz]
    .Input("values: float")   // [nnz]
    .Input("top: float")      // [N1, D]: rows 0 .. N1 - 1 of x
    .Input("bottom: float")   // [N - N1, D]: the other rows
    .Attr("layers: int >= 0")
    .Output("top_out: float")
    .Output("bottom_out: float")
    .SetShapeFn([](tensorflow::shape_inference::InferenceContext* c) {
      c->set_output(0, c->input(3));
      c->set_output(1, c->input(4));
      return absl::OkStatus();
    });

class PropagationMeanOp : public OpKernel {
 public:
  explicit PropagationMeanOp(OpKernelConstruction* ctx) : OpKernel(ctx) {
    OP_REQUIRES_OK(ctx, ctx->GetAttr("layers", &layers_));
  }

  void Compute(OpKernelContext* ctx) override {
    const Tensor& indptr = ctx->input(0);
    const Tensor& indices = ctx->input(1);
    const Tensor& values = ctx->input(2);
    const Tensor& top = ctx->input(3);
    const Tensor& bottom = ctx->input(4);
    OP_REQUIRES(ctx, top.dims() == 2 && bottom.dims() == 2 && top.dim_size(1) == bottom.dim_size(1),
                tensorflow::errors::InvalidArgument("SgfdPropagationMean: top and bottom must be matrices of one width, got ",
                                                    top.shape().DebugString(), " and ", bottom.shape().DebugString()));
    const int64_t n_top = top.dim_size(0), n = n_top + bottom.dim_size(0), d = top.dim_size(1);
    OP_REQUIRES(ctx, indices.dims() == 1 && values.dims() == 1,
                tensorflow::errors::InvalidArgument("SgfdPropagationMean: indices and values must be vectors"));
    OP_REQUIRES(ctx, indptr.dims() == 1 && indptr.dim_size(0) == n + 1,
                tensorflow::errors::InvalidArgument("SgfdPropagationMean: indptr must have ", n + 1, " offsets for ", n,
                                                    " rows, got ", indptr.shape().DebugString()));
    OP_REQUIRES_OK(ctx, CheckCsr(indptr, indices, values, n));
    Tensor *top_out = nullptr, *bottom_out = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, top.shape(), &top_out));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(1, bottom.shape(), &bottom_out));
    float* top_data = top_out->flat<float>().data();
    float* bottom_data = bottom_out->flat<float>().data();
    const float scale = 1.0f / static_cast<float>(layers_ + 1);
    // x as one matrix, the layer's rows read at random by column; work buffers from TensorFlow's allocator
    // (reused across calls, unlike fresh pages), each written in full before it is read. The running sum
    // x + A x + ... starts in the first layer's pass and the last layer writes the scaled mean straight
    // into the outputs, so no pass only copies or scales.
    Tensor buffers[3];
    for (Tensor& buffer : buffers)
      OP_REQUIRES_OK(ctx, ctx->allocate_temp(tensorflow::DT_FLOAT, TensorShape({n, d}), &buffer));
    float* x = buffers[0].flat<float>().data();
    float* sum = buffers[2].flat<float>().data();
    std::copy_n(top.flat<float>().data(), n_top * d, x);
    std::copy_n(bottom.flat<float>().data(), (n - n_top) * d, x + n_top * d);
    if (layers_ == 0) {
      std::copy_n(x, n_top * d, top_data);
      std::copy_n(x + n_top * d, (n - n_top) * d, bottom_data);
      return;
    }
    const int32_t* ptr = indptr.flat<int32_t>().data();
    const int32_t* col = indices.flat<int32_t>().data();
    const float* val = values.flat<float>().data();
    const int64_t per_row = n > 0 ? (ptr[n] + n - 1) / n : 0;
    float* layer_in = x;
    float* layer_out = buffers[1].flat<float>().data();
    for (int64_t layer = 0; layer < layers_; layer++) {
      const bool first = layer == 0, last = layer == layers_ - 1;
      const float* before = first ? x : sum;  // x + A x + ... up to the previous layer
      auto emit = [&](int64_t r, const float* acc) {
        const float* b = before + r * d;
        if (last) {
          float* out = r < n_top ? top_data + r * d : bottom_data + (r - n_top) * d;
          for (int64_t j = 0; j < d; j++) out[j] = (b[j] + acc[j]) * scale;
        } else {
          float* s = sum + r * d;
          for (int64_t j = 0; j < d; j++) s[j] = b[j] + acc[j];
          std::copy_n(acc, d, layer_out + r * d);
        }
      };
      auto work = [&](int64_t begin, int64_t end) { CsrRows(ptr, col, val, layer_in, d, begin, end, emit); };
      ParallelFor(ctx, n, (2 * per_row + 2) * d, work);
      // x (or the layer before) is in the sum by now, so its buffer takes the layer after.
      std::swap(layer_in, layer_out);
    }
  }

 private:
  int64_t layers_;
};

REGISTER_KERNEL_BUILDER(Name("SgfdPropagationMean").Device(tensorflow::DEVICE_CPU), PropagationMeanOp);

// The hidden layer of MAML's attention for a batch of pairs, as its training step forms it: sig = sigmoid(pre2)
// with pre2 = (u_i + p_ij) / n_ij + bias2, n_ij = sqrt(max(|u_i|^2 + |p_ij|^2, 1e-12)), where u_i is user i's
// part of the doubled first layer and p_ij the part of its j-th item (tanh(pre) = 2 sig - 1 downstream). One
// pass forward and one backward over [B, K, H], where tfjs's broadcasts, division, bias, sigmoid and their
// gradients take about fifteen ops of that size.
REGISTER_OP("SgfdMamlHidden")
    .Input("user_part: float")  // [B, H]
    .Input("item_part: float")  // [B, K, H]
    .Input("user_sq: float")    // [B]
    .Input("item_sq: float")    // [B, K]
    .Input("bias2: float")      // [H]
    .Output("sig: float")       // [B, K, H]
    .SetShapeFn([](tensorflow::shape_inference::InferenceContext* c) {
      c->set_output(0, c->input(1));
      return absl::OkStatus();
    });

REGISTER_OP("SgfdMamlHiddenGrad")
    .Input("user_part: float")
    .Input("item_part: float")
    .Input("user_sq: float")
    .Input("item_sq: float")
    .Input("sig: float")   // the forward output
    .Input("dsig: float")  // [B, K, H]
    .Output("d_user_part: float")
    .Output("d_item_part: float")
    .Output("d_user_sq: float")
    .Output("d_item_sq: float")
    .Output("d_bias2: float")
    .SetShapeFn([](tensorflow::shape_inference::InferenceContext* c) {
      for (int i = 0; i < 4; i++) c->set_output(i, c->input(i));
      c->set_output(4, c->Vector(c->Dim(c->input(0), 1)));
      return absl::OkStatus();
    });

static tensorflow::Status CheckMamlHidden(const Tensor& user_part, const Tensor& item_part, const Tensor& user_sq,
                                          const Tensor& item_sq) {
  const bool ok = user_part.dims() == 2 && item_part.dims() == 3 && user_sq.dims() == 1 && item_sq.dims() == 2 &&
                  item_part.dim_size(0) == user_part.dim_size(0) && item_part.dim_size(2) == user_part.dim_size(1) &&
                  user_sq.dim_size(0) == user_part.dim_size(0) && item_sq.dim_size(0) == user_part.dim_size(0) &&
                  item_sq.dim_size(1) == item_part.dim_size(1);
  if (ok) return absl::OkStatus();
  return tensorflow::errors::InvalidArgument("SgfdMamlHidden: inconsistent shapes (user_part ", user_part.shape().DebugString(),
                                             ", item_part ", item_part.shape().DebugString(), ", user_sq ",
                                             user_sq.shape().DebugString(), ", item_sq ", item_sq.shape().DebugString(), ")");
}

using ConstRowArray = Eigen::Map<const Eigen::Array<float, 1, Eigen::Dynamic>>;
using RowArray = Eigen::Map<Eigen::Array<float, 1, Eigen::Dynamic>>;

class MamlHiddenOp : public OpKernel {
 public:
  explicit MamlHiddenOp(OpKernelConstruction* ctx) : OpKernel(ctx) {}

  void Compute(OpKernelContext* ctx) override {
    const Tensor &user_part = ctx->input(0), &item_part = ctx->input(1), &user_sq = ctx->input(2),
                 &item_sq = ctx->input(3), &bias2 = ctx->input(4);
    OP_REQUIRES_OK(ctx, CheckMamlHidden(user_part, item_part, user_sq, item_sq));
    const int64_t b = item_part.dim_size(0), k = item_part.dim_size(1), h = item_part.dim_size(2);
    OP_REQUIRES(ctx, bias2.dims() == 1 && bias2.dim_size(0) == h,
                tensorflow::errors::InvalidArgument("SgfdMamlHidden: bias2 must have ", h, " values"));
    Tensor* sig = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, item_part.shape(), &sig));
    const float *u = user_part.flat<float>().data(), *p = item_part.flat<float>().data();
    const float *usq = user_sq.flat<float>().data(), *psq = item_sq.flat<float>().data();
    const ConstRowArray bias(bias2.flat<float>().data(), h);
    float* out = sig->flat<float>().data();
    auto work = [&](int64_t begin, int64_t end) {
      for (int64_t pair = begin; pair < end; pair++) {
        const int64_t i = pair / k;
        const float norm = std::sqrt(std::max(usq[i] + psq[pair], 1e-12f));
        const ConstRowArray ui(u + i * h, h), pij(p + pair * h, h);
        RowArray(out + pair * h, h) = ((ui + pij) / norm + bias).logistic();
      }
    };
    ParallelFor(ctx, b * k, 30 * h, work);
  }
};

class MamlHiddenGradOp : public OpKernel {
 public:
  explicit MamlHiddenGradOp(OpKernelConstruction* ctx) : OpKernel(ctx) {}

  void Compute(OpKernelContext* ctx) override {
    const Tensor &user_part = ctx->input(0), &item_part = ctx->input(1), &user_sq = ctx->input(2),
                 &item_sq = ctx->input(3), &sig = ctx->input(4), &dsig = ctx->input(5);
    OP_REQUIRES_OK(ctx, CheckMamlHidden(user_part, item_part, user_sq, item_sq));
    OP_REQUIRES(ctx, sig.shape() == item_part.shape() && dsig.shape() == item_part.shape(),
                tensorflow::errors::InvalidArgument("SgfdMamlHiddenGrad: sig and dsig must have item_part's shape"));
    const int64_t b = item_part.dim_size(0), k = item_part.dim_size(1), h = item_part.dim_size(2);
    Tensor *du = nullptr, *dp = nullptr, *dusq = nullptr, *dpsq = nullptr, *dbias = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, user_part.shape(), &du));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(1, item_part.shape(), &dp));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(2, user_sq.shape(), &dusq));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(3, item_sq.shape(), &dpsq));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(4, TensorShape({h}), &dbias));
    // Per user, the sum of its pairs' d pre2 (reduced over users into d bias2 afterwards).
    Tensor pre_sums;
    OP_REQUIRES_OK(ctx, ctx->allocate_temp(tensorflow::DT_FLOAT, TensorShape({b, h}), &pre_sums));
    const float *u = user_part.flat<float>().data(), *p = item_part.flat<float>().data();
    const float *usq = user_sq.flat<float>().data(), *psq = item_sq.flat<float>().data();
    const float *s = sig.flat<float>().data(), *g = dsig.flat<float>().data();
    float *du_data = du->flat<float>().data(), *dp_data = dp->flat<float>().data();
    float *dusq_data = dusq->flat<float>().data(), *dpsq_data = dpsq->flat<float>().data();
    float* sums = pre_sums.flat<float>().data();
    // pre2 = x / n + bias with x = u_i + p_ij: d x = d pre2 / n; d n = -<d pre2, x> / n^2; n = sqrt(max(q, eps)),
    // so d q = d n / (2 n) where q >= eps (tfjs's maximum passes the gradient to q on ties) and 0 below.
    auto work = [&](int64_t begin, int64_t end) {
      Eigen::Array<float, 1, Eigen::Dynamic> dpre(h);
      for (int64_t i = begin; i < end; i++) {
        const ConstRowArray ui(u + i * h, h);
        RowArray dui(du_data + i * h, h), sum(sums + i * h, h);
        dui.setZero();
        sum.setZero();
        float dq_user = 0.0f;
        for (int64_t j = 0; j < k; j++) {
          const int64_t pair = i * k + j;
          const float q = usq[i] + psq[pair];
          const float norm = std::sqrt(std::max(q, 1e-12f));
          const ConstRowArray sij(s + pair * h, h), gij(g + pair * h, h), pij(p + pair * h, h);
          dpre = gij * sij * (1.0f - sij);
          sum += dpre;
          RowArray(dp_data + pair * h, h) = dpre / norm;
          dui += dpre / norm;
          const float dnorm = -(dpre * (ui + pij)).sum() / (norm * norm);
          const float dq = q >= 1e-12f ? dnorm / (2.0f * norm) : 0.0f;
          dpsq_data[pair] = dq;
          dq_user += dq;
        }
        dusq_data[i] = dq_user;
      }
    };
    ParallelFor(ctx, b, 40 * k * h, work);
    RowArray db(dbias->flat<float>().data(), h);
    db.setZero();
    for (int64_t i = 0; i < b; i++) db += ConstRowArray(sums + i * h, h);
  }
};

REGISTER_KERNEL_BUILDER(Name("SgfdMamlHidden").Device(tensorflow::DEVICE_CPU), MamlHiddenOp);
REGISTER_KERNEL_BUILDER(Name("SgfdMamlHiddenGrad").Device(tensorflow::DEVICE_CPU), MamlHiddenGradOp);
// BPR's terms over rows of two tables: for pair b, gap_b = <users[u_b], items[neg_b] - items[pos_b]> and
// the squared norms |users[u_b]|^2, |items[pos_b]|^2, |items[neg_b]|^2 (one [4, B] output: tfjs's custom
// gradients take one tensor), and their gradient as the tables' [N, D] gradients. Where the stock path takes three gathers, the gap and three sums of squares forward and
// their gradients plus three scatter-adds backward, each direction is one pass over the batch's rows.
REGISTER_OP("SgfdBprRows")
    .Input("users: float")     // [NU, D]
    .Input("items: float")     // [NI, D]
    .Input("user_ids: int32")  // [B]
    .Input("pos_ids: int32")   // [B]
    .Input("neg_ids: int32")   // [B]
    .Output("terms: float")    // [4, B]: gap, |u|^2, |pos|^2, |neg|^2
    .SetShapeFn([](tensorflow::shape_inference::InferenceContext* c) {
      c->set_output(0, c->Matrix(4, c->Dim(c->input(2), 0)));
      return absl::OkStatus();
    });

REGISTER_OP("SgfdBprRowsGrad")
    .Input("users: float")
    .Input("items: float")
    .Input("user_ids: int32")
    .Input("pos_ids: int32")
    .Input("neg_ids: int32")
    .Input("d_terms: float")   // [4, B]
    .Output("d_users: float")  // [NU, D]
    .Output("d_items: float")  // [NI, D]
    .SetShapeFn([](tensorflow::shape_inference::InferenceContext* c) {
      c->set_output(0, c->input(0));
      c->set_output(1, c->input(1));
      return absl::OkStatus();
    });

// The tables and ids of a BPR batch: the tables' widths agree, the ids are vectors of one length, each id
// a row of its table (the first one that is not is named).
static tensorflow::Status CheckBprTables(const char* op, const Tensor& users, const Tensor& items, const Tensor* ids) {
  if (users.dims() != 2 || items.dims() != 2 || users.dim_size(1) != items.dim_size(1))
    return tensorflow::errors::InvalidArgument(op, ": users and items must be matrices of one width, got ",
                                               users.shape().DebugString(), " and ", items.shape().DebugString());
  const char* names[3] = {"user_ids", "pos_ids", "neg_ids"};
  for (int k = 0; k < 3; k++) {
    if (ids[k].dims() != 1 || ids[k].dim_size(0) != ids[0].dim_size(0))
      return tensorflow::errors::InvalidArgument(op, ": ", names[k], " must be a vector of one id per pair, got ",
                                                 ids[k].shape().DebugString());
    const int64_t rows = (k == 0 ? users : items).dim_size(0);
    const int32_t* v = ids[k].flat<int32_t>().data();
    for (int64_t b = 0; b < ids[k].dim_size(0); b++)
      if (v[b] < 0 || v[b] >= rows)
        return tensorflow::errors::InvalidArgument(op, ": ", names[k], "[", b, "] = ", v[b], " is not a row of its ",
                                                   rows, "-row table");
  }
  return absl::OkStatus();
}

// Each pair's terms, into terms [4, B]: gap, |u|^2, |pos|^2, |neg|^2.
static void BprTermsOfPairs(OpKernelContext* ctx, const Tensor& users, const Tensor& items, const Tensor* ids,
                            float* terms) {
  const int64_t b = ids[0].dim_size(0), d = users.dim_size(1);
  const ConstRowMap um(users.flat<float>().data(), users.dim_size(0), d),
      im(items.flat<float>().data(), items.dim_size(0), d);
  const int32_t *u = ids[0].flat<int32_t>().data(), *p = ids[1].flat<int32_t>().data(),
                *n = ids[2].flat<int32_t>().data();
  auto work = [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; r++) {
      const auto ur = um.row(u[r]), pr = im.row(p[r]), nr = im.row(n[r]);
      terms[r] = ur.dot(nr - pr);
      terms[b + r] = ur.squaredNorm();
      terms[2 * b + r] = pr.squaredNorm();
      terms[3 * b + r] = nr.squaredNorm();
    }
  };
  ParallelFor(ctx, b, 10 * d, work);
}

class BprRowsOp : public OpKernel {
 public:
  explicit BprRowsOp(OpKernelConstruction* ctx) : OpKernel(ctx) {}

  void Compute(OpKernelContext* ctx) override {
    const Tensor& users = ctx->input(0);
    const Tensor& items = ctx->input(1);
    const Tensor ids[3] = {ctx->input(2), ctx->input(3), ctx->input(4)};
    OP_REQUIRES_OK(ctx, CheckBprTables("SgfdBprRows", users, items, ids));
    Tensor* out = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, TensorShape({4, ids[0].dim_size(0)}), &out));
    BprTermsOfPairs(ctx, users, items, ids, out->flat<float>().data());
  }
};

// The tables' gradients of BPR's terms given each term's gradient g [4, B] (gap, |u|^2, |pos|^2, |neg|^2).
static void BprTermsGradient(OpKernelContext* ctx, const Tensor& users, const Tensor& items, const Tensor* ids,
                             const float* g) {
  const int64_t b = ids[0].dim_size(0), d = users.dim_size(1);
  Tensor *du_out = nullptr, *di_out = nullptr;
  OP_REQUIRES_OK(ctx, ctx->allocate_output(0, users.shape(), &du_out));
  OP_REQUIRES_OK(ctx, ctx->allocate_output(1, items.shape(), &di_out));
  const float* uv = users.flat<float>().data();
  const float* iv = items.flat<float>().data();
  float* du = du_out->flat<float>().data();
  float* di = di_out->flat<float>().data();
  std::memset(du, 0, sizeof(float) * users.NumElements());
  std::memset(di, 0, sizeof(float) * items.NumElements());
  const int32_t *u = ids[0].flat<int32_t>().data(), *p = ids[1].flat<int32_t>().data(),
                *n = ids[2].flat<int32_t>().data();
  // Threads take column slices, and each walks the pairs in order: every sum of a repeated row has one
  // order, whatever the threading, and no two threads write one value.
  constexpr int64_t kSlice = 8;
  auto work = [&](int64_t begin, int64_t end) {
    const int64_t c0 = begin * kSlice, c1 = std::min(d, end * kSlice);
    for (int64_t r = 0; r < b; r++) {
      const float* ur = uv + u[r] * d;
      const float* pr = iv + p[r] * d;
      const float* nr = iv + n[r] * d;
      float* dur = du + u[r] * d;
      float* dpr = di + p[r] * d;
      float* dnr = di + n[r] * d;
      const float gr = g[r], su = 2 * g[b + r], sp = 2 * g[2 * b + r], sn = 2 * g[3 * b + r];
      for (int64_t c = c0; c < c1; c++) {
        dur[c] += gr * (nr[c] - pr[c]) + su * ur[c];
        dpr[c] += sp * pr[c] - gr * ur[c];
        dnr[c] += sn * nr[c] + gr * ur[c];
      }
    }
  };
  ParallelFor(ctx, (d + kSlice - 1) / kSlice, 12 * b * kSlice, work);
}

class BprRowsGradOp : public OpKernel {
 public:
  explicit BprRowsGradOp(OpKernelConstruction* ctx) : OpKernel(ctx) {}

  void Compute(OpKernelContext* ctx) override {
    const Tensor& users = ctx->input(0);
    const Tensor& items = ctx->input(1);
    const Tensor ids[3] = {ctx->input(2), ctx->input(3), ctx->input(4)};
    const Tensor& d_terms = ctx->input(5);
    OP_REQUIRES_OK(ctx, CheckBprTables("SgfdBprRowsGrad", users, items, ids));
    const int64_t b = ids[0].dim_size(0);
    OP_REQUIRES(ctx, d_terms.dims() == 2 && d_terms.dim_size(0) == 4 && d_terms.dim_size(1) == b,
                tensorflow::errors::InvalidArgument("SgfdBprRowsGrad: d_terms must be [4, ", b, "], got ",
                                                    d_terms.shape().DebugString()));
    BprTermsGradient(ctx, users, items, ids, d_terms.flat<float>().data());
  }
};

// BPR with softplus over the same rows, reduced: [mean_b softplus(gap_b), sum |u_b|^2, sum |pos_b|^2,
// sum |neg_b|^2] (LATTICE's, FREEDOM's and GRCN's loss and regulariser inputs), and its gradient. Where
// SgfdBprRows leaves the softplus, its mean and three sums to about twenty small ops forward and backward,
// here the reduction is in the pass (sums in double, in pair order, so one value whatever the threading)
// and the gradient recomputes the gaps instead of keeping them.
REGISTER_OP("SgfdBprSoftplus")
    .Input("users: float")
    .Input("items: float")
    .Input("user_ids: int32")
    .Input("pos_ids: int32")
    .Input("neg_ids: int32")
    .Output("loss: float")  // [4]
    .SetShapeFn([](tensorflow::shape_inference::InferenceContext* c) {
      c->set_output(0, c->Vector(4));
      return absl::OkStatus();
    });

REGISTER_OP("SgfdBprSoftplusGrad")
    .Input("users: float")
    .Input("items: float")
    .Input("user_ids: int32")
    .Input("pos_ids: int32")
    .Input("neg_ids: int32")
    .Input("d_loss: float")    // [4]
    .Output("d_users: float")  // [NU, D]
    .Output("d_items: float")  // [NI, D]
    .SetShapeFn([](tensorflow::shape_inference::InferenceContext* c) {
      c->set_output(0, c->input(0));
      c->set_output(1, c->input(1));
      return absl::OkStatus();
    });

static float Softplus(float x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }

static float Sigmoid(float x) { return x >= 0 ? 1 / (1 + std::exp(-x)) : std::exp(x) / (1 + std::exp(x)); }

class BprSoftplusOp : public OpKernel {
 public:
  explicit BprSoftplusOp(OpKernelConstruction* ctx) : OpKernel(ctx) {}

  void Compute(OpKernelContext* ctx) override {
    const Tensor& users = ctx->input(0);
    const Tensor& items = ctx->input(1);
    const Tensor ids[3] = {ctx->input(2), ctx->input(3), ctx->input(4)};
    OP_REQUIRES_OK(ctx, CheckBprTables("SgfdBprSoftplus", users, items, ids));
    const int64_t b = ids[0].dim_size(0);
    Tensor terms;
    OP_REQUIRES_OK(ctx, ctx->allocate_temp(tensorflow::DT_FLOAT, TensorShape({4, b}), &terms));
    float* t = terms.flat<float>().data();
    BprTermsOfPairs(ctx, users, items, ids, t);
    double sums[4] = {0, 0, 0, 0};
    for (int64_t r = 0; r < b; r++) {
      sums[0] += Softplus(t[r]);
      for (int k = 1; k < 4; k++) sums[k] += t[k * b + r];
    }
    Tensor* out = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, TensorShape({4}), &out));
    float* loss = out->flat<float>().data();
    loss[0] = b > 0 ? static_cast<float>(sums[0] / static_cast<double>(b)) : 0.0f;
    for (int k = 1; k < 4; k++) loss[k] = static_cast<float>(sums[k]);
  }
};

class BprSoftplusGradOp : public OpKernel {
 public:
  explicit BprSoftplusGradOp(OpKernelConstruction* ctx) : OpKernel(ctx) {}

  void Compute(OpKernelContext* ctx) override {
    const Tensor& users = ctx->input(0);
    const Tensor& items = ctx->input(1);
    const Tensor ids[3] = {ctx->input(2), ctx->input(3), ctx->input(4)};
    const Tensor& d_loss = ctx->input(5);
    OP_REQUIRES_OK(ctx, CheckBprTables("SgfdBprSoftplusGrad", users, items, ids));
    OP_REQUIRES(ctx, d_loss.dims() == 1 && d_loss.dim_size(0) == 4,
                tensorflow::errors::InvalidArgument("SgfdBprSoftplusGrad: d_loss must be [4], got ",
                                                    d_loss.shape().DebugString()));
    const int64_t b = ids[0].dim_size(0);
    const float* dl = d_loss.flat<float>().data();
    Tensor terms;
    OP_REQUIRES_OK(ctx, ctx->allocate_temp(tensorflow::DT_FLOAT, TensorShape({4, b}), &terms));
    float* g = terms.flat<float>().data();
    BprTermsOfPairs(ctx, users, items, ids, g);
    // d mean softplus / d gap_b = sigmoid(gap_b) / B; each sum of squares passes its gradient to every pair.
    const float per_pair = b > 0 ? dl[0] / static_cast<float>(b) : 0.0f;
    for (int64_t r = 0; r < b; r++) {
      g[r] = per_pair * Sigmoid(g[r]);
      for (int k = 1; k < 4; k++) g[k * b + r] = dl[k];
    }
    BprTermsGradient(ctx, users, items, ids, g);
  }
};

REGISTER_KERNEL_BUILDER(Name("SgfdBprRows").Device(tensorflow::DEVICE_CPU), BprRowsOp);
REGISTER_KERNEL_BUILDER(Name("SgfdBprRowsGrad").Device(tensorflow::DEVICE_CPU), BprRowsGradOp);
REGISTER_KERNEL_BUILDER(Name("SgfdBprSoftplus").Device(tensorflow::DEVICE_CPU), BprSoftplusOp);
REGISTER_KERNEL_BUILDER(Name("SgfdBprSoftplusGrad").Device(tensorflow::DEVICE_CPU), BprSoftplusGradOp);

REGISTER_OP("SgfdOuterProductAdam")
    .Input("var: resource")         // [P, Q]
    .Input("m: resource")           // [P, Q]
    .Input("v: resource")           // [P, Q]
    .Input("beta1_power: float")
    .Input("beta2_power: float")
    .Input("lr: float")
    .Input("beta1: float")
    .Input("beta2: float")
    .Input("epsilon: float")
    .Input("rows: float")           // [N, P]
    .Input("product_grad: float")   // [N, Q]
    .SetShapeFn([](tensorflow::shape_inference::InferenceContext*) { return absl::OkStatus(); });

// ResourceApplyAdam with the gradient rows^T product_grad (the weight gradient of a product rows W, given
// the gradient of that product), formed kRows rows at a time in a cache-resident block and applied at once,
// so the [P, Q] gradient never goes through memory: one pass over var, m and v instead of a product's output
// pass and Adam's passes (a 4096 x 1024 weight from 64 rows: about 0.6x the time of MatMul then
// ResourceApplyAdam). Each gradient entry is one fixed-order sum over the N rows, whatever the threading.
// The update is TensorFlow's ApplyAdam: m += (g - m)(1 - beta1), v += (g^2 - v)(1 - beta2),
// var -= m alpha / (sqrt(v) + epsilon), alpha = lr sqrt(1 - beta2_power) / (1 - beta1_power).
class OuterProductAdamOp : public OpKernel {
 public:
  explicit OuterProductAdamOp(OpKernelConstruction* ctx) : OpKernel(ctx) {}

  void Compute(OpKernelContext* ctx) override {
    tensorflow::core::RefCountPtr<tensorflow::Var> vars[3];
    for (int i = 0; i < 3; i++) {
      OP_REQUIRES_OK(ctx, tensorflow::LookupResource(ctx, tensorflow::HandleFromInput(ctx, i), &vars[i]));
    }
    tensorflow::mutex_lock l0(*vars[0]->mu()), l1(*vars[1]->mu()), l2(*vars[2]->mu());
    float scalars[6];
    for (int i = 0; i < 6; i++) {
      const Tensor& s = ctx->input(3 + i);
      OP_REQUIRES(ctx, s.NumElements() == 1,
                  tensorflow::errors::InvalidArgument("SgfdOuterProductAdam: input ", 3 + i, " is not a scalar"));
      scalars[i] = s.flat<float>()(0);
    }
    const Tensor& rows = ctx->input(9);
    const Tensor& grad = ctx->input(10);
    OP_REQUIRES(ctx, rows.dims() == 2 && grad.dims() == 2 && rows.dim_size(0) == grad.dim_size(0),
                tensorflow::errors::InvalidArgument("SgfdOuterProductAdam: rows ", rows.shape().DebugString(),
                                                    " and product_grad ", grad.shape().DebugString(),
                                                    " are not [N, P] and [N, Q]"));
    const int64_t n = rows.dim_size(0), p = rows.dim_size(1), q = grad.dim_size(1);
    float* state[3];
    for (int i = 0; i < 3; i++) {
      Tensor* t = vars[i]->tensor();
      OP_REQUIRES(ctx, vars[i]->is_initialized && t->dtype() == tensorflow::DT_FLOAT && t->dims() == 2 &&
                           t->dim_size(0) == p && t->dim_size(1) == q,
                  tensorflow::errors::InvalidArgument("SgfdOuterProductAdam: variable ", i, " is not an initialised [",
                                                      p, ", ", q, "] float matrix"));
      // Another tensor shares the buffer (e.g. a read of the variable): update a copy, as TensorFlow does.
      if (!t->RefCountIsOne()) {
        Tensor copy;
        OP_REQUIRES_OK(ctx, ctx->allocate_temp(tensorflow::DT_FLOAT, t->shape(), &copy));
        std::memcpy(copy.flat<float>().data(), t->flat<float>().data(), sizeof(float) * p * q);
        *t = copy;
      }
      state[i] = t->flat<float>().data();
    }
    const float beta1_power = scalars[0], beta2_power = scalars[1], lr = scalars[2];
    const float one_minus_beta1 = 1 - scalars[3], one_minus_beta2 = 1 - scalars[4], epsilon = scalars[5];
    const float alpha = lr * std::sqrt(1 - beta2_power) / (1 - beta1_power);
    const float* a = rows.flat<float>().data();
    const float* b = grad.flat<float>().data();

    // product_grad in panels of kCols columns, [panel][N][kCols], zero-padded: each tile reads one panel
    // row by row.
    const int64_t panels = (q + kCols - 1) / kCols;
    std::vector<float> packed(panels * n * kCols, 0.0f);
    for (int64_t k = 0; k < n; k++)
      for (int64_t j = 0; j < q; j++) packed[((j / kCols) * n + k) * kCols + j % kCols] = b[k * q + j];

    float* var = state[0];
    float* m = state[1];
    float* v = state[2];
    auto adam = [&](int64_t at, float g) {
      m[at] += (g - m[at]) * one_minus_beta1;
      v[at] += (g * g - v[at]) * one_minus_beta2;
      var[at] -= (m[at] * alpha) / (std::sqrt(v[at]) + epsilon);
    };
    const int64_t blocks = (p + kRows - 1) / kRows;
    const int64_t padded_q = panels * kCols;
    const int64_t lines_per_panel = (kRows * q / 16 + panels - 1) / panels;
    auto work = [&](int64_t begin, int64_t end) {
      std::vector<float> a_block(n * kRows);
      // One block's gradient rows, [kRows][padded_q]: formed panel by panel, then applied in one sequential
      // pass over the block's rows of var, m and v (contiguous: the rows are adjacent).
      std::vector<float, Eigen::aligned_allocator<float>> g_block(kRows * padded_q);
      for (int64_t blk = begin; blk < end; blk++) {
        const int64_t i0 = blk * kRows, valid_rows = std::min<int64_t>(kRows, p - i0);
        for (int64_t k = 0; k < n; k++)
          for (int64_t r = 0; r < kRows; r++) a_block[k * kRows + r] = r < valid_rows ? a[k * p + i0 + r] : 0.0f;
        for (int64_t panel = 0; panel < panels; panel++) {
          const float* bp = packed.data() + panel * n * kCols;
          float* out = g_block.data() + panel * kCols;
#ifdef __AVX2__
          // Brings the block's var, m and v rows towards the cache while the products run, a slice a panel.
          for (int64_t line = panel * lines_per_panel; line < (panel + 1) * lines_per_panel; line++) {
            const int64_t at = i0 * q + line * 16;
            if (at < (i0 + valid_rows) * q)
              for (float* x : {var, m, v}) _mm_prefetch(reinterpret_cast<const char*>(x + at), _MM_HINT_T0);
          }
          __m256 acc[kRows][2];
          for (int r = 0; r < kRows; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
          for (int64_t k = 0; k < n; k++) {
            const __m256 b0 = _mm256_loadu_ps(bp + k * kCols), b1 = _mm256_loadu_ps(bp + k * kCols + 8);
            for (int r = 0; r < kRows; r++) {
              const __m256 ar = _mm256_broadcast_ss(&a_block[k * kRows + r]);
              acc[r][0] = _mm256_fmadd_ps(ar, b0, acc[r][0]);
              acc[r][1] = _mm256_fmadd_ps(ar, b1, acc[r][1]);
            }
          }
          for (int r = 0; r < kRows; r++) {
            _mm256_storeu_ps(out + r * padded_q, acc[r][0]);
            _mm256_storeu_ps(out + r * padded_q + 8, acc[r][1]);
          }
#else
          for (int r = 0; r < kRows; r++)
            for (int c = 0; c < kCols; c++) {
              float sum = 0.0f;
              for (int64_t k = 0; k < n; k++) sum += a_block[k * kRows + r] * bp[k * kCols + c];
              out[r * padded_q + c] = sum;
            }
#endif
        }
        for (int64_t r = 0; r < valid_rows; r++) {
          const float* g = g_block.data() + r * padded_q;
          const int64_t row = (i0 + r) * q;
          int64_t c = 0;
#ifdef __AVX2__
          const __m256 c1 = _mm256_set1_ps(one_minus_beta1), c2 = _mm256_set1_ps(one_minus_beta2);
          const __m256 al = _mm256_set1_ps(alpha), ep = _mm256_set1_ps(epsilon);
          for (; c + 8 <= q; c += 8) {
            const __m256 gv = _mm256_loadu_ps(g + c);
            __m256 mv = _mm256_loadu_ps(m + row + c), vv = _mm256_loadu_ps(v + row + c);
            mv = _mm256_add_ps(mv, _mm256_mul_ps(_mm256_sub_ps(gv, mv), c1));
            vv = _mm256_add_ps(vv, _mm256_mul_ps(_mm256_sub_ps(_mm256_mul_ps(gv, gv), vv), c2));
            const __m256 step = _mm256_div_ps(_mm256_mul_ps(mv, al), _mm256_add_ps(_mm256_sqrt_ps(vv), ep));
            _mm256_storeu_ps(m + row + c, mv);
            _mm256_storeu_ps(v + row + c, vv);
            _mm256_storeu_ps(var + row + c, _mm256_sub_ps(_mm256_loadu_ps(var + row + c), step));
          }
#endif
          for (; c < q; c++) adam(row + c, g[c]);
        }
      }
    };
    ParallelFor(ctx, blocks, kRows * q * (2 * n + 30), work);
  }

 private:
  static constexpr int kRows = 6;
  static constexpr int kCols = 16;
};

REGISTER_KERNEL_BUILDER(Name("SgfdOuterProductAdam").Device(tensorflow::DEVICE_CPU), OuterProductAdamOp);

REGISTER_OP("SgfdAdamGroup")
    .Input("params: N * float")
    .Input("grads: N * float")
    .Input("m: N * float")
    .Input("v: N * float")
    .Input("powers: float")  // [N, 3]: beta1^t, beta2^t and epsilon sqrt(1 - beta2^t) of each variable's step t
    .Attr("N: int >= 1")
    .Attr("lr: float")
    .Attr("beta1: float")
    .Attr("beta2: float")
    .Output("new_params: N * float")
    .Output("new_m: N * float")
    .Output("new_v: N * float")
    .SetShapeFn([](tensorflow::shape_inference::InferenceContext* c) {
      int n;
      TF_RETURN_IF_ERROR(c->GetAttr("N", &n));
      for (int k = 0; k < 3; k++)
        for (int i = 0; i < n; i++) c->set_output(k * n + i, c->input(i));
      return absl::OkStatus();
    });

// ResourceApplyAdam's update for N small variables in one op, as new tensors (the multi-tensor Adam of
// PyTorch's foreach path): per variable m += (g - m)(1 - beta1), v += (g^2 - v)(1 - beta2),
// var -= m alpha / (sqrt(v) + eps_t), alpha = lr sqrt(1 - beta2^t) / (1 - beta1^t), in TensorFlow's order
// of operations, so each variable ends bit-identical to ResourceApplyAdam's. A small variable's update
// costs less than the dispatch of the three resource ops around it, which this saves.
class AdamGroupOp : public OpKernel {
 public:
  explicit AdamGroupOp(OpKernelConstruction* ctx) : OpKernel(ctx) {
    OP_REQUIRES_OK(ctx, ctx->GetAttr("lr", &lr_));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("beta1", &beta1_));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("beta2", &beta2_));
  }

  void Compute(OpKernelContext* ctx) override {
    tensorflow::OpInputList params, grads, ms, vs;
    OP_REQUIRES_OK(ctx, ctx->input_list("params", &params));
    OP_REQUIRES_OK(ctx, ctx->input_list("grads", &grads));
    OP_REQUIRES_OK(ctx, ctx->input_list("m", &ms));
    OP_REQUIRES_OK(ctx, ctx->input_list("v", &vs));
    const Tensor* powers;
    OP_REQUIRES_OK(ctx, ctx->input("powers", &powers));
    const int n = params.size();
    OP_REQUIRES(ctx, powers->dims() == 2 && powers->dim_size(0) == n && powers->dim_size(1) == 3,
                tensorflow::errors::InvalidArgument("SgfdAdamGroup: powers must be [", n, ", 3], got ",
                                                    powers->shape().DebugString()));
    tensorflow::OpOutputList new_params, new_ms, new_vs;
    OP_REQUIRES_OK(ctx, ctx->output_list("new_params", &new_params));
    OP_REQUIRES_OK(ctx, ctx->output_list("new_m", &new_ms));
    OP_REQUIRES_OK(ctx, ctx->output_list("new_v", &new_vs));
    const float* pw = powers->flat<float>().data();
    for (int i = 0; i < n; i++) {
      const TensorShape& shape = params[i].shape();
      OP_REQUIRES(ctx, grads[i].shape() == shape && ms[i].shape() == shape && vs[i].shape() == shape,
                  tensorflow::errors::InvalidArgument("SgfdAdamGroup: variable ", i, " has shape ",
                                                      shape.DebugString(), " but its gradient, m or v does not"));
      Tensor *p_out, *m_out, *v_out;
      OP_REQUIRES_OK(ctx, new_params.allocate(i, shape, &p_out));
      OP_REQUIRES_OK(ctx, new_ms.allocate(i, shape, &m_out));
      OP_REQUIRES_OK(ctx, new_vs.allocate(i, shape, &v_out));
      const float beta1_power = pw[3 * i], beta2_power = pw[3 * i + 1], epsilon = pw[3 * i + 2];
      const float alpha = lr_ * std::sqrt(1 - beta2_power) / (1 - beta1_power);
      const float one_minus_beta1 = 1 - beta1_, one_minus_beta2 = 1 - beta2_;
      const int64_t size = shape.num_elements();
      const float *p = params[i].flat<float>().data(), *g = grads[i].flat<float>().data();
      const float *m = ms[i].flat<float>().data(), *v = vs[i].flat<float>().data();
      float *po = p_out->flat<float>().data(), *mo = m_out->flat<float>().data(), *vo = v_out->flat<float>().data();
      for (int64_t j = 0; j < size; j++) {
        const float mj = m[j] + (g[j] - m[j]) * one_minus_beta1;
        const float vj = v[j] + (g[j] * g[j] - v[j]) * one_minus_beta2;
        mo[j] = mj;
        vo[j] = vj;
        po[j] = p[j] - (mj * alpha) / (std::sqrt(vj) + epsilon);
      }
    }
  }

 private:
  float lr_, beta1_, beta2_;
};

REGISTER_KERNEL_BUILDER(Name("SgfdAdamGroup").Device(tensorflow::DEVICE_CPU), AdamGroupOp);

REGISTER_OP("SgfdClassifierDistill")
    .Input("teacher: float")  // [N, D]
    .Input("student: float")  // [N, D], or [0, D] for a modality without a student
    .Input("weight: float")   // [D, C]
    .Input("bias: float")     // [C]
    .Input("labels: int32")   // [N]
    .Attr("tau: float")
    .Attr("response: {'l1', 'kl'}")
    .Output("terms: float")  // [3]: CE of the teacher's logits, LD, FD
    .SetShapeFn([](tensorflow::shape_inference::InferenceContext* c) {
      c->set_output(0, c->Vector(3));
      return absl::OkStatus();
    });

REGISTER_OP("SgfdClassifierDistillGrad")
    .Input("teacher: float")
    .Input("student: float")
    .Input("weight: float")
    .Input("bias: float")
    .Input("labels: int32")
    .Input("d_terms: float")  // [3]
    .Attr("tau: float")
    .Attr("response: {'l1', 'kl'}")
    .Output("d_teacher: float")
    .Output("d_student: float")
    .Output("d_weight: float")
    .Output("d_bias: float")
    .SetShapeFn([](tensorflow::shape_inference::InferenceContext* c) {
      for (int i = 0; i < 4; i++) c->set_output(i, c->input(i));
      return absl::OkStatus();
    });

// One modality's terms of joint SGFD with its classifier (W, b) shared by teacher and student:
// z_T = t W + b, z_S = s W + b; CE = mean_i (lse(z_T,i) - z_T,i[y_i]); with p = softmax(z / tau),
// LD = mean_ij |p_T - p_S| (l1) or tau^2 mean_i KL(p_T,i || p_S,i) (kl); FD = mean_ij (s - t)^2.
// Rows go in fixed blocks whose partial sums are added in block order, so the result does not depend on
// the number of threads.
struct DistillInputs {
  const float* teacher;
  const float* student;  // null: no student
  const float* weight;
  const float* bias;
  const int32_t* labels;
  int64_t n, d, c;
  float tau;
  bool kl;
};

static constexpr int64_t kDistillBlock = 64;

static tensorflow::Status ReadDistillInputs(const char* op, OpKernelContext* ctx, float tau, bool kl,
                                            DistillInputs* in) {
  const Tensor &t = ctx->input(0), &s = ctx->input(1), &w = ctx->input(2), &b = ctx->input(3), &y = ctx->input(4);
  if (t.dims() != 2 || s.dims() != 2 || w.dims() != 2 || b.dims() != 1 || y.dims() != 1 ||
      w.dim_size(0) != t.dim_size(1) || s.dim_size(1) != t.dim_size(1) || b.dim_size(0) != w.dim_size(1) ||
      y.dim_size(0) != t.dim_size(0) || (s.dim_size(0) != t.dim_size(0) && s.dim_size(0) != 0))
    return tensorflow::errors::InvalidArgument(
        op, ": expected teacher [N, D], student [N, D] or [0, D], weight [D, C], bias [C] and labels [N], got ",
        t.shape().DebugString(), ", ", s.shape().DebugString(), ", ", w.shape().DebugString(), ", ",
        b.shape().DebugString(), " and ", y.shape().DebugString());
  if (t.dim_size(0) == 0) return tensorflow::errors::InvalidArgument(op, ": no rows");
  *in = {t.flat<float>().data(), s.dim_size(0) > 0 ? s.flat<float>().data() : nullptr, w.flat<float>().data(),
         b.flat<float>().data(), y.flat<int32_t>().data(), t.dim_size(0), t.dim_size(1), w.dim_size(1), tau, kl};
  for (int64_t i = 0; i < in->n; i++)
    if (in->labels[i] < 0 || in->labels[i] >= in->c)
      return tensorflow::errors::InvalidArgument(op, ": labels[", i, "] = ", in->labels[i],
                                                 " is not a category of the ", in->c, "-column classifier");
  return absl::OkStatus();
}

// p = softmax(scale z) of one row of c logits (scale > 0), in Eigen's vectorised exp; returns
// log(sum exp(scale z)), so log p_j = scale z_j - it.
static float SoftmaxRow(const float* z, int64_t c, float scale, float* p) {
  const Eigen::Map<const Eigen::ArrayXf> zr(z, c);
  Eigen::Map<Eigen::ArrayXf> pr(p, c);
  const float top = scale * zr.maxCoeff();
  pr = (scale * zr - top).exp();
  const float sum = pr.sum();
  pr /= sum;
  return top + std::log(sum);
}

// A block's logits and softmaxes: ce_p = softmax(z_T), p_t = softmax(z_T / tau), p_s = softmax(z_S / tau).
struct DistillBlock {
  RowMatrix z_t, z_s, ce_p, p_t, p_s;
  std::vector<float> lse_t, lse_s, ce_lse;

  void Compute(const DistillInputs& in, int64_t r0, int64_t rows) {
    const ConstRowMap w(in.weight, in.d, in.c);
    const Eigen::Map<const Eigen::RowVectorXf> b(in.bias, in.c);
    z_t.noalias() = ConstRowMap(in.teacher + r0 * in.d, rows, in.d) * w;
    z_t.rowwise() += b;
    ce_p.resize(rows, in.c);
    ce_lse.resize(rows);
    for (int64_t i = 0; i < rows; i++) ce_lse[i] = SoftmaxRow(z_t.row(i).data(), in.c, 1.0f, ce_p.row(i).data());
    if (!in.student) return;
    z_s.noalias() = ConstRowMap(in.student + r0 * in.d, rows, in.d) * w;
    z_s.rowwise() += b;
    p_t.resize(rows, in.c);
    p_s.resize(rows, in.c);
    lse_t.resize(rows);
    lse_s.resize(rows);
    for (int64_t i = 0; i < rows; i++) {
      lse_t[i] = SoftmaxRow(z_t.row(i).data(), in.c, 1 / in.tau, p_t.row(i).data());
      lse_s[i] = SoftmaxRow(z_s.row(i).data(), in.c, 1 / in.tau, p_s.row(i).data());
    }
  }
};

// What both ClassifierDistill kernels read: the attributes, once; the inputs and their row blocks, per call.
class ClassifierDistillKernel : public OpKernel {
 public:
  explicit ClassifierDistillKernel(OpKernelConstruction* ctx) : OpKernel(ctx) {
    OP_REQUIRES_OK(ctx, ctx->GetAttr("tau", &tau_));
    std::string response;
    OP_REQUIRES_OK(ctx, ctx->GetAttr("response", &response));
    kl_ = response == "kl";
  }

 protected:
  // The inputs, checked, and the number of kDistillBlock-row blocks.
  tensorflow::Status Read(const char* op, OpKernelContext* ctx, DistillInputs* in, int64_t* blocks) const {
    TF_RETURN_IF_ERROR(ReadDistillInputs(op, ctx, tau_, kl_, in));
    *blocks = (in->n + kDistillBlock - 1) / kDistillBlock;
    return absl::OkStatus();
  }

 private:
  float tau_;
  bool kl_;
};

class ClassifierDistillOp : public ClassifierDistillKernel {
 public:
  explicit ClassifierDistillOp(OpKernelConstruction* ctx) : ClassifierDistillKernel(ctx) {}

  void Compute(OpKernelContext* ctx) override {
    DistillInputs in;
    int64_t blocks;
    OP_REQUIRES_OK(ctx, Read("SgfdClassifierDistill", ctx, &in, &blocks));
    std::vector<double> sums(3 * blocks, 0.0);
    auto work = [&](int64_t begin, int64_t end) {
      DistillBlock blk;
      for (int64_t k = begin; k < end; k++) {
        const int64_t r0 = k * kDistillBlock, rows = std::min(kDistillBlock, in.n - r0);
        blk.Compute(in, r0, rows);
        double ce = 0, ld = 0, fd = 0;
        for (int64_t i = 0; i < rows; i++) {
          ce += blk.ce_lse[i] - blk.z_t(i, in.labels[r0 + i]);
          if (!in.student) continue;
          const ConstRowArray pt(blk.p_t.row(i).data(), in.c), ps(blk.p_s.row(i).data(), in.c);
          if (in.kl) {
            const ConstRowArray zt(blk.z_t.row(i).data(), in.c), zs(blk.z_s.row(i).data(), in.c);
            ld += (pt * ((zt - zs) / in.tau - blk.lse_t[i] + blk.lse_s[i])).sum();
          } else {
            ld += (pt - ps).abs().sum();
          }
        }
        if (in.student)
          fd = (ConstRowMap(in.student + r0 * in.d, rows, in.d) - ConstRowMap(in.teacher + r0 * in.d, rows, in.d))
                   .squaredNorm();
        sums[3 * k] = ce;
        sums[3 * k + 1] = ld;
        sums[3 * k + 2] = fd;
      }
    };
    ParallelFor(ctx, blocks, kDistillBlock * in.c * (4 * in.d + 40), work);
    double total[3] = {0, 0, 0};
    for (int64_t k = 0; k < blocks; k++)
      for (int t = 0; t < 3; t++) total[t] += sums[3 * k + t];
    const double n = static_cast<double>(in.n);
    Tensor* out = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, TensorShape({3}), &out));
    float* terms = out->flat<float>().data();
    terms[0] = static_cast<float>(total[0] / n);
    terms[1] = static_cast<float>(in.kl ? total[1] * in.tau * in.tau / n : total[1] / (n * in.c));
    terms[2] = static_cast<float>(total[2] / (n * in.d));
  }
};

class ClassifierDistillGradOp : public ClassifierDistillKernel {
 public:
  explicit ClassifierDistillGradOp(OpKernelConstruction* ctx) : ClassifierDistillKernel(ctx) {}

  void Compute(OpKernelContext* ctx) override {
    DistillInputs in;
    int64_t blocks;
    OP_REQUIRES_OK(ctx, Read("SgfdClassifierDistillGrad", ctx, &in, &blocks));
    const Tensor& d_terms = ctx->input(5);
    OP_REQUIRES(ctx, d_terms.dims() == 1 && d_terms.dim_size(0) == 3,
                tensorflow::errors::InvalidArgument("SgfdClassifierDistillGrad: d_terms must be [3], got ",
                                                    d_terms.shape().DebugString()));
    Tensor* outs[4];
    for (int i = 0; i < 4; i++) OP_REQUIRES_OK(ctx, ctx->allocate_output(i, ctx->input(i).shape(), &outs[i]));
    float* d_teacher = outs[0]->flat<float>().data();
    float* d_student = in.student ? outs[1]->flat<float>().data() : nullptr;
    const float* g = d_terms.flat<float>().data();
    const float n = static_cast<float>(in.n);
    // Each term's gradient with respect to its logits or features, per entry.
    const float ce_scale = g[0] / n;
    const float ld_scale = in.kl ? g[1] * in.tau / n : g[1] / (n * in.c * in.tau);
    const float fd_scale = 2 * g[2] / (n * in.d);
    const int64_t per_block = in.d * in.c + in.c;
    std::vector<float> partial(blocks * per_block);
    const ConstRowMap w(in.weight, in.d, in.c);
    auto work = [&](int64_t begin, int64_t end) {
      DistillBlock blk;
      RowMatrix dz_t, dz_s;
      Eigen::Array<float, 1, Eigen::Dynamic> a(in.c);
      for (int64_t k = begin; k < end; k++) {
        const int64_t r0 = k * kDistillBlock, rows = std::min(kDistillBlock, in.n - r0);
        blk.Compute(in, r0, rows);
        dz_t = blk.ce_p * ce_scale;
        for (int64_t i = 0; i < rows; i++) dz_t(i, in.labels[r0 + i]) -= ce_scale;
        if (in.student) {
          dz_s.resize(rows, in.c);
          for (int64_t i = 0; i < rows; i++) {
            const ConstRowArray pt(blk.p_t.row(i).data(), in.c), ps(blk.p_s.row(i).data(), in.c);
            RowArray dzt(dz_t.row(i).data(), in.c), dzs(dz_s.row(i).data(), in.c);
            if (in.kl) {
              // d KL(p_T || p_S) / d u_T = p_T (log p_T - log p_S - KL), / d u_S = p_S - p_T, for u = z / tau.
              const ConstRowArray zt(blk.z_t.row(i).data(), in.c), zs(blk.z_s.row(i).data(), in.c);
              a = (zt - zs) / in.tau - blk.lse_t[i] + blk.lse_s[i];
              const float kl = (pt * a).sum();
              dzt += ld_scale * pt * (a - kl);
              dzs = ld_scale * (ps - pt);
            } else {
              // d |p_T - p_S| is sign(p_T - p_S), through each softmax: p (a - sum p a).
              a = ld_scale * (pt - ps).sign();
              dzt += pt * (a - (pt * a).sum());
              dzs = -ps * (a - (ps * a).sum());
            }
          }
        }
        Eigen::Map<RowMatrix> dt(d_teacher + r0 * in.d, rows, in.d);
        dt.noalias() = dz_t * w.transpose();
        Eigen::Map<RowMatrix> dw(partial.data() + k * per_block, in.d, in.c);
        float* db = partial.data() + k * per_block + in.d * in.c;
        const ConstRowMap t(in.teacher + r0 * in.d, rows, in.d);
        dw.noalias() = t.transpose() * dz_t;
        AddColumnSums(dz_t.data(), rows, in.c, db);
        if (in.student) {
          const ConstRowMap s(in.student + r0 * in.d, rows, in.d);
          Eigen::Map<RowMatrix> ds(d_student + r0 * in.d, rows, in.d);
          ds.noalias() = dz_s * w.transpose();
          ds += fd_scale * (s - t);
          dt -= fd_scale * (s - t);
          dw.noalias() += s.transpose() * dz_s;
          AddColumnSums(dz_s.data(), rows, in.c, db);
        }
      }
    };
    ParallelFor(ctx, blocks, kDistillBlock * in.c * (8 * in.d + 40), work);
    float* d_weight = outs[2]->flat<float>().data();
    float* d_bias = outs[3]->flat<float>().data();
    std::fill(d_weight, d_weight + in.d * in.c, 0.0f);
    std::fill(d_bias, d_bias + in.c, 0.0f);
    for (int64_t k = 0; k < blocks; k++) {
      const float* p = partial.data() + k * per_block;
      for (int64_t j = 0; j < in.d * in.c; j++) d_weight[j] += p[j];
      for (int64_t j = 0; j < in.c; j++) d_bias[j] += p[in.d * in.c + j];
    }
  }
};

REGISTER_KERNEL_BUILDER(Name("SgfdClassifierDistill").Device(tensorflow::DEVICE_CPU), ClassifierDistillOp);
REGISTER_KERNEL_BUILDER(Name("SgfdClassifierDistillGrad").Device(tensorflow::DEVICE_CPU), ClassifierDistillGradOp);
}  // namespace sgfd

// Node loads this library with process.dlopen, which asks N-API for its exports: it has none, its ops are
// registered with TensorFlow by the static initialisers above.
extern "C" void* napi_register_module_v1(void* /*env*/, void* exports) { return exports; }
`;
