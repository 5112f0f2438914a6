export {
  userItemEdges,
  degrees,
  symmetricEdgeWeights,
  bipartiteAdjacency,
  randomWalkAdjacencyWithSelfLoops,
} from './adjacency';
export type { UserItemEdges } from './adjacency';
export { lightGcnMean, lightGcnMeanOfBlocks, propagate, splitNodes } from './lightgcn';
export { knnGraph, knnGraphOf, knnCoo, normalizedKnnAdjacency, KNN_SIMILARITIES } from './knn';
export type { KnnGraph, KnnOptions, KnnSimilarity } from './knn';
export { KnnGraphSet, resolveKnnGraph } from './knn-source';
export type { KnnGraphSpec, KnnGraphSource } from './knn-source';
export { weightedSampleWithoutReplacement } from './edge-sampling';
export { weightedSparseSum } from './sparse-sum';
