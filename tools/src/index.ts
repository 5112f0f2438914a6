export {
  TEMPORAL_CLI_MODULE,
  TEMPORAL_CLI_VERSION,
  TemporalInstallError,
  ensureTemporalCli,
  temporalCliCachePath,
} from '../temporal/cli-install';
export type { InstallOptions, InstallResult } from '../temporal/cli-install';
export { TemporalServerError, startDevServer, stopProcess, waitForTemporal } from '../temporal/dev-server';
export type { DevServer, DevServerOptions } from '../temporal/dev-server';
export {
  REPO_ROOT,
  sgfdStateDir,
  ensureLocalServer,
  localServerDir,
  readLocalServerState,
  runningLocalServer,
  stopLocalServer,
} from '../temporal/local-server';
export type { LocalServerOptions, LocalServerState } from '../temporal/local-server';
export { withFileLock } from './file-lock';
export { ensureTensorflowEngine } from '../tensorflow/install';
export type { EngineInstallOptions, EngineInstallResult } from '../tensorflow/install';
export { prepareTensorflowEngine } from '../tensorflow/prepare';
export { TensorflowEngineError } from '../tensorflow/wheel';
export { ensureTextModel, TextModelError } from '../text-encoder/install';
export type { TextModelResult } from '../text-encoder/install';
export { VERSITYGW_VERSION, VersitygwInstallError, ensureVersitygw, versitygwCachePath } from '../s3/versitygw-install';
export { S3ServerError, startS3Server } from '../s3/s3-server';
export type { S3Server, S3ServerOptions } from '../s3/s3-server';
