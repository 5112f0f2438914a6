export { servingIds, snapshotIds, snapshotIndexIds, type IdMap } from './ids';
export { createScorer, scoreFormula, type Scorer } from './scorer';
export { maskSeen, userItemsOf, type SeenItems, type UserItems } from './seen-items';
export { Recommender, topKOfRow, type Ranked } from './top-k';
export {
  BUNDLE_FILES,
  SCORING_FILE,
  idsHint,
  readScoringBundle,
  readScoringSpec,
  writeScoringBundle,
  type ModelInfo,
  type ScoringBundle,
  type ScoringSpec,
  type SeenPairs,
} from './scoring-bundle';
export {
  RECOMMENDATIONS_METADATA,
  recommendAll,
  recommendationSample,
  recommendationsParquet,
  type AllRecommendations,
} from './recommendations-file';
export { fixedModelSource, servedModel, similarityScores, type ModelSource, type ServedModel } from './served-model';
export { buildServer, type ServerOptions } from './server';
