export { TEXT_MODEL, TEXT_MODEL_FILES, textModelDir } from './text/text-model';
export { SentenceEncoder, meanPoolNormalized, type SentenceEncoderOptions } from './text/sentence-encoder';
export { createTextEncoder, itemText, DEFAULT_TEXT_SETTINGS, type TextSettings } from './text/text-modality';
export { openOnnxSession, type ExpectedSignature } from './onnx-session';
export { FeatureCache, FEATURE_CHUNK_FILE, featureChunkKey, type FeatureChunkMeta } from './feature-cache';
export type { ModalityEncoder, EncodedBatch, LoadedEncoder, PreparedItem } from './modality-encoder';
export {
  extractFeatures,
  encoderKey,
  DEFAULT_CHUNK_SIZE,
  type ExtractOptions,
  type ExtractProgress,
  type ExtractResult,
  type ItemProblem,
  type ModalityStats,
} from './extract-features';
export {
  extractDataset,
  type ExtractDatasetOptions,
  type ExtractDatasetResult,
  type ExtractionSettings,
} from './extract-dataset';
export { PRODUCT_CATEGORIES, productText, type CategoryVocabulary, type ProductText } from './catalogue/product-titles';
export {
  writeRawCatalogue,
  catalogueItems,
  RAW_CATALOGUE_COLUMNS,
  type RawCatalogueFiles,
  type RawCatalogueSpec,
} from './catalogue/raw-catalogue-writer';
export { createImageEncoder } from './image/image-modality';
export { preprocessImage } from './image/image-preprocess';
export {
  IMAGENET_PREPROCESSING,
  checkImageSettings,
  preprocessingFileOf,
  resolveImageSettings,
  type ImageSettings,
} from './image/image-settings';
export { smallCnnOnnx, type SmallCnnOptions } from './image/small-cnn-onnx';
export { drawProductImage } from './catalogue/product-images';
export {
  writeDemoCatalogue,
  DEMO_CATALOGUE_SIZES,
  DEMO_IMAGE_MODEL,
  type DemoCatalogueSize,
} from './catalogue/demo-catalogue';
