export * from './sgfd/index';
export { Dense, leakyNormalize, activate } from './layers';
export type { Activation, BiasInit, DenseOptions, KernelInit } from './layers';
export type { Projection } from './projection';
export { createVariable, prefixed, disposeAll } from './params';
export type { NamedVariables } from './params';
export {
  stopGradient,
  l2NormalizeRows,
  cosineSimilarityRows,
  frobeniusNorm,
  meanOfScalars,
  tidyObject,
  readAndDispose,
} from './ops';
export { writeTensorFile, readTensorFile, tensorIndexPath, hasTensorFile } from './io/tensor-file';
export type { StoredArray, StoredArrays } from './io/tensor-file';
export { snapshotVariables, assignVariables, saveVariables, loadVariables } from './io/variables-file';
export type { PerModality, LossTerms, FeatureTensors } from './model-types';
export type {
  Backbone,
  BackboneContext,
  BackboneData,
  BackboneLoss,
  ProjectedRows,
  Scorer,
  TrainBatch,
} from './backbone';
export { BaseBackbone, MODEL_FILE_BASE } from './base-backbone';
export {
  registerBackbone,
  registeredBackbones,
  registeredDefinitions,
  createBackbone,
  parseBackboneParams,
  knnGraphSpecs,
  gradientCheckSpec,
} from './registry';
export type { BackboneDefinition, GradientCheckSpec } from './registry';
export { LinearProjection } from './projection';
export { backboneData, featureTensors, disposeFeatures } from './features';
export * from './backbones/index';
export * from './graph/index';
