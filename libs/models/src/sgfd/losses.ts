import {
  classifierDistillFused,
  customOpsAvailable,
  isNativeBackend,
  sparseSoftmaxCrossEntropy,
  tf,
} from '@sgfd/tensor';
import type { Dense } from '../layers';

/**
 * Cross-entropy of logits [n, C] against integer labels [n], averaged over rows.
 * `authorsDoubleSoftmax` feeds softmax(logits) into the cross-entropy (which applies softmax again),
 * reproducing the authors' code; for comparison runs only. On the native engine, TensorFlow's fused
 * SparseSoftmaxCrossEntropyWithLogits.
 */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D, authorsDoubleSoftmax = false): tf.Scalar {
  return tf.tidy(() => {
    const input = authorsDoubleSoftmax ? tf.softmax(logits) : logits;
    if (isNativeBackend()) return tf.mean(sparseSoftmaxCrossEntropy(input as tf.Tensor2D, labels)) as tf.Scalar;
    const logProbs = tf.logSoftmax(input);
    const picked = tf.sum(tf.mul(logProbs, tf.oneHot(labels, logits.shape[1])), 1);
    return tf.neg(tf.mean(picked)) as tf.Scalar;
  });
}

/**
 * Cross-entropy of `classifier`'s logits for `features` against `labels`. On the native engine the classifier
 * and the cross-entropy are one fused op each way (SgfdClassifierDistill without a student: a teacher step
 * has three such heads, each eleven small TensorFlow ops as layer + loss); `authorsDoubleSoftmax` and a
 * classifier without a bias take the composite path.
 */
export function classifierCrossEntropy(
  features: tf.Tensor2D,
  classifier: Dense,
  labels: tf.Tensor1D,
  authorsDoubleSoftmax = false,
): tf.Scalar {
  if (customOpsAvailable() && !authorsDoubleSoftmax && classifier.bias) {
    const { kernel, bias } = classifier;
    return tf.tidy(() => {
      const terms = classifierDistillFused(features, null, kernel as tf.Tensor2D, bias as tf.Tensor1D, labels, 1, 'l1');
      return tf.reshape(tf.slice(terms, [0], [1]), []) as tf.Scalar;
    });
  }
  return tf.tidy(() => crossEntropy(classifier.apply(features), labels, authorsDoubleSoftmax));
}

export type ResponseLossKind = 'l1' | 'kl';

/**
 * LD: distance between the softened class distributions softmax(z/tau) of teacher and student.
 * `l1`: mean |p_T - p_S| over rows x classes (the authors' F.l1_loss).
 * `kl`: tau^2 * KL(p_T || p_S), summed over classes, averaged over rows (Hinton et al.).
 */
export function responseDistillation(
  teacherLogits: tf.Tensor2D,
  studentLogits: tf.Tensor2D,
  tau: number,
  kind: ResponseLossKind,
): tf.Scalar {
  return tf.tidy(() => {
    const teacherScaled = tf.div(teacherLogits, tau) as tf.Tensor2D;
    const studentScaled = tf.div(studentLogits, tau) as tf.Tensor2D;
    if (kind === 'l1')
      return tf.mean(tf.abs(tf.sub(tf.softmax(teacherScaled), tf.softmax(studentScaled)))) as tf.Scalar;
    const logPt = tf.logSoftmax(teacherScaled);
    const logPs = tf.logSoftmax(studentScaled);
    const kl = tf.sum(tf.mul(tf.exp(logPt), tf.sub(logPt, logPs)), 1);
    return tf.mul(tf.mean(kl), tau * tau) as tf.Scalar;
  });
}

/** FD: mean squared difference of student and teacher features over rows x dims. */
export function featureDistillation(studentFeatures: tf.Tensor2D, teacherFeatures: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.squaredDifference(studentFeatures, teacherFeatures)) as tf.Scalar);
}

export interface JointTermOptions {
  tau: number;
  responseLoss: ResponseLossKind;
  authorsDoubleSoftmax: boolean;
}

/**
 * One modality's terms of the joint schedule, as a [3] tensor: CE of the teacher's logits
 * C_m(f^T_m), then LD and FD against the student's features (0 and 0 without a student). The classifier
 * C_m is shared by teacher and student. On the native engine one fused op each way (SgfdClassifierDistill);
 * the authors' double softmax takes the composite path.
 */
export function jointModalityTerms(
  teacherFeatures: tf.Tensor2D,
  studentFeatures: tf.Tensor2D | null,
  classifier: Dense,
  labels: tf.Tensor1D,
  options: JointTermOptions,
): tf.Tensor1D {
  if (customOpsAvailable() && !options.authorsDoubleSoftmax && classifier.bias) {
    const { kernel, bias } = classifier;
    return classifierDistillFused(
      teacherFeatures,
      studentFeatures,
      kernel as tf.Tensor2D,
      bias as tf.Tensor1D,
      labels,
      options.tau,
      options.responseLoss,
    );
  }
  return tf.tidy(() => {
    const teacherLogits = classifier.apply(teacherFeatures);
    const ce = crossEntropy(teacherLogits, labels, options.authorsDoubleSoftmax);
    if (!studentFeatures) return tf.stack([ce, tf.scalar(0), tf.scalar(0)]) as tf.Tensor1D;
    const studentLogits = classifier.apply(studentFeatures);
    return tf.stack([
      ce,
      responseDistillation(teacherLogits, studentLogits, options.tau, options.responseLoss),
      featureDistillation(studentFeatures, teacherFeatures),
    ]) as tf.Tensor1D;
  });
}

/** Fraction of rows whose arg-max logit is the label. */
export function accuracy(logits: tf.Tensor2D, labels: tf.Tensor1D): number {
  return tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'float32')).dataSync()[0]);
}
