// Every workflow the workers host; bundled with bundleWorkflowCode from this file.
export { trainPipeline, progressQuery, stageProgressSignal } from './trainPipeline';
export { experimentSuite, suiteProgressQuery } from './experimentSuite';
export { scheduledRetrain, retrainProgressQuery } from './scheduledRetrain';
