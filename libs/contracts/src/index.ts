export * from './errors';
export * from './artifacts';
export * from './dataset';
export * from './config';
export * from './run';
export * from './queues';
export * from './pipeline';
export * from './suite';
