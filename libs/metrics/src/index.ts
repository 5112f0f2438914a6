export { evaluateRanking, DEFAULT_KS } from './ranking';
export type { EvaluateRankingOptions, RankingResult, ScoreUsers } from './ranking';
export { groupByUser } from './user-items';
export type { UserItemPairs } from './user-items';
export { pairedTTest } from './ttest';
export type { TTestResult } from './ttest';
export { studentTCdf, studentTTwoSidedP, regularizedIncompleteBeta, logGamma } from './special-functions';
