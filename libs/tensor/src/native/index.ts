// Where the native engine lives and whether a GPU is visible: no tfjs import, so tools/tensorflow and
// entry points can use it without loading an engine.
export {
  TENSORFLOW_VERSION,
  TFJS_NODE_VERSION,
  NAPI_VERSION,
  sgfdCacheRoot,
  tensorflowCacheRoot,
  cachedEngineDir,
  bindingPathIn,
  engineInfoPathIn,
  customOpsPathIn,
  customOpsSourceSha256,
  engineDirFor,
  readEngineInfo,
} from './engine-paths';
export type { EngineVariant, EngineInfo } from './engine-paths';
export { cudaDeviceVisible } from './cuda';
export { CUSTOM_OPS_SOURCE } from './ops/custom-ops-source';
