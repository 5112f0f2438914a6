import type { EngineVariant } from '@sgfd/tensor/native';

/**
 * The registry packages the TensorFlow C library and its headers come from, pinned by file and sha256.
 * PyPI's TensorFlow wheels carry `libtensorflow_cc.so.2` (which exports the C and eager C APIs that
 * tfjs-node's binding calls), `libtensorflow_framework.so.2` and the C headers, in one file per build;
 * Maven Central's tensorflow-core-native jars carry the same libraries but no headers. Only the libraries
 * and headers are used, so the CPython tag of the wheel does not matter: one is pinned.
 */
export interface EngineSource {
  /** The pip requirement. */
  requirement: string;
  /** The wheel pip must produce, and its sha256 (checked before anything is extracted). */
  file: string;
  sha256: string;
}

const PLATFORM = 'cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64';

export const ENGINE_SOURCES: Record<EngineVariant, EngineSource> = {
  cpu: {
    requirement: 'tensorflow-cpu==2.18.0',
    file: `tensorflow_cpu-2.18.0-${PLATFORM}.whl`,
    sha256: '089e71746960ea581dca53401f84b3b99c8537313e337a9e5dbf97036a936f7e',
  },
  // The CUDA build (CUDA 12, cuDNN 9), loaded only where a CUDA device is visible.
  gpu: {
    requirement: 'tensorflow==2.18.0',
    file: `tensorflow-2.18.0-${PLATFORM}.whl`,
    sha256: '70b8dd70fa3600bfce66ab529eebb804e1f9d7c863d2f71bc8fe9fc7a1ec3976',
  },
};

/** pip's options that select the pinned wheel on any host Python (the tag above, no dependencies). */
export const PIP_WHEEL_OPTIONS = [
  '--no-deps',
  '--only-binary=:all:',
  '--python-version',
  '3.11',
  '--platform',
  'manylinux_2_17_x86_64',
];

/**
 * What the builds need from the wheel: the two libraries, and the header trees the binding's includes (the C
 * API) and the custom ops' (TensorFlow's op framework, Eigen, Abseil, protobuf) reach.
 */
export const WHEEL_LIBRARIES = ['tensorflow/libtensorflow_cc.so.2', 'tensorflow/libtensorflow_framework.so.2'];
export const WHEEL_HEADER_PREFIX = 'tensorflow/include/';
export const WHEEL_HEADER_TREES = [
  'tensorflow/c/',
  'tensorflow/core/',
  'tsl/',
  'xla/',
  'Eigen/',
  'unsupported/',
  'absl/',
  'google/',
  'ml_dtypes/',
];
