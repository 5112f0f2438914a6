export { createExtractActivities, type ExtractDeps } from './extract';
export { createIngestActivities, type IngestDeps } from './ingest';
export type { SnapshotMeta } from './snapshot-artifact';
export { createTeacherActivities, teacherKey, TEACHER_OUTPUTS_FOLDER, type TeacherMeta } from './teacher';
export {
  createStudentActivities,
  modelKey,
  readTrainingRecord,
  MODEL_FOLDER,
  TRAINING_RECORD_FILE,
  type ModelMeta,
  type TrainingRecord,
} from './student';
export { createEvalActivities, evaluationKey, RECOMMENDATIONS_K, type EvalDeps, type EvaluationMeta } from './evaluate';
export { EVALUATION_FILES, relativeGain, type RunReport } from './report';
export { signalWorkflowProgress, type ProgressSink, type WorkflowTarget } from './progress-sink';
export type { AttemptRecord } from './training-attempt';
export type { TrainingDeps } from './training-deps';
export { SNAPSHOT_FOLDER, loadSnapshotArtifact, snapshotDir } from './snapshot-artifact';
export { sourceIdentity, readDatasetSource } from './dataset-source';
export { toActivityFailure } from './failures';
export { createSuiteActivities, readCellResults, suiteReportKey, type SuiteDeps, type SuiteReportMeta } from './suite';
export { createChampionActivities, type ChampionDeps } from './champion';
export {
  DECISION_FILE,
  configKeyOf,
  decisionKey,
  latestDecision,
  listChampionHistory,
  readDecision,
} from './champion-history';
