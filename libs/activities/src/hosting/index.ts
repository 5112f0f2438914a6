// Worker process hosting and Temporal connection settings, kept apart from the activities' own entry so
// that importing them does not load the training stack (and vice versa).
export { runStageWorker, type StageWorkerDeps, type StageWorkerSpec } from './run-worker';
export {
  DEFAULT_TEMPORAL_ADDRESS,
  resolveTemporalTarget,
  unreachableMessage,
  type LocalServerLookup,
  type TemporalTarget,
} from './connection';
export { prebuiltWorkflowBundle, bundleInputsHash, type WorkflowBundleSource } from './bundle-cache';
export { createLogLine, type LogLine } from './log';
