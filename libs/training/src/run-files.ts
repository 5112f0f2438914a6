/** Files of a run directory. `manifest.json` is written last: its presence means the run completed. */
export const RUN_FILES = {
  manifest: 'manifest.json',
  metrics: 'metrics.json',
  curveCsv: 'curve.csv',
  curveSvg: 'curve.svg',
  model: 'model',
  teacher: 'teacher',
  checkpoints: 'checkpoints',
} as const;
