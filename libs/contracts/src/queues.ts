export const TASK_QUEUES = {
  extract: 'sgfd-extract',
  ingest: 'sgfd-ingest',
  teacher: 'sgfd-teacher',
  student: 'sgfd-student',
  eval: 'sgfd-eval',
} as const;
export type Stage = keyof typeof TASK_QUEUES;
