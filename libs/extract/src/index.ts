export { TEXT_MODEL, TEXT_MODEL_FILES, textModelDir } from './text/text-model';
export { SentenceEncoder, meanPoolNormalized, type SentenceEncoderOptions } from './text/sentence-encoder';
export { openOnnxSession, type ExpectedSignature } from './onnx-session';
