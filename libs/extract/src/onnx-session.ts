import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { ConfigError } from '@sgfd/contracts';

export interface ExpectedSignature {
  /** Input names the caller feeds (others must not be required). */
  inputs: string[];
  /** The output the features are read from. */
  output: string;
  threads?: number;
}

/**
 * Opens an ONNX model on ONNX Runtime's CPU provider. A file that is not an ONNX model, or one without the
 * inputs or the output the caller needs, is a ConfigError naming the file and what it has.
 */
export async function openOnnxSession(path: string, expected: ExpectedSignature): Promise<ort.InferenceSession> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(code === 'ENOENT' ? 'Missing ONNX model' : 'Unreadable ONNX model', {
      file: path,
      expected: 'an ONNX model file',
      found: code === 'ENOENT' ? 'no such file' : String(code ?? err),
    });
  }
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      ...(expected.threads ? { intraOpNumThreads: expected.threads } : {}),
    });
  } catch (err) {
    throw new ConfigError('Not an ONNX model', {
      file: path,
      expected: 'an ONNX model that ONNX Runtime loads',
      found: firstLine((err as Error).message),
    });
  }
  const missingInput = expected.inputs.find((name) => !session.inputNames.includes(name));
  const extraInput = session.inputNames.find((name) => !expected.inputs.includes(name) && name !== 'token_type_ids');
  if (missingInput || extraInput || !session.outputNames.includes(expected.output)) {
    const found = `inputs ${session.inputNames.join(', ')}; outputs ${session.outputNames.join(', ')}`;
    await session.release();
    throw new ConfigError(
      session.outputNames.includes(expected.output)
        ? 'ONNX model has the wrong inputs'
        : 'ONNX model has the wrong output',
      {
        file: path,
        expected: `inputs ${expected.inputs.join(', ')} and an output named '${expected.output}'`,
        found,
      },
    );
  }
  return session;
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.slice(0, 200);
}
