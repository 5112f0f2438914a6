// Reading a suite file (YAML or JSON) into a validated SuiteSpec; every error names the file, the line and
// the field.
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { isNode, LineCounter, parseDocument, type Document } from 'yaml';
import { ConfigError, SuiteSpecSchema, formatPath, suiteSpecError, type SuiteSpec } from '@sgfd/contracts';
import { DEFAULT_KS } from '@sgfd/metrics';

const FORMATS = { '.yaml': 'yaml', '.yml': 'yaml', '.json': 'json' } as const;

/**
 * Parses suite text; `file` names it in errors and picks the format by extension (YAML when unknown: JSON is
 * YAML). `backbones` is the registry's list (@sgfd/models' `registeredBackbones()`), which the caller passes
 * because this lib cannot load the models.
 */
export function parseSuiteText(text: string, file: string, backbones: readonly string[]): SuiteSpec {
  const format = FORMATS[extname(file).toLowerCase() as keyof typeof FORMATS] ?? 'yaml';
  const lineCounter = new LineCounter();
  let value: unknown;
  let doc: Document | undefined;
  if (format === 'json') {
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new ConfigError(`Suite file is not valid JSON: ${(e as Error).message}`, { file });
    }
    // The same text as YAML (JSON is a subset) only to find the line of a bad field.
    doc = parseDocument(text, { lineCounter });
  } else {
    doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
    const [error] = doc.errors;
    if (error) {
      const line = lineCounter.linePos(error.pos[0]).line;
      throw new ConfigError(`Suite file is not valid YAML: ${error.message.split('\n')[0]}`, { file, row: line });
    }
    value = doc.toJS();
  }
  if (value === null || value === undefined)
    throw new ConfigError('Suite file is empty', { file, expected: 'a suite: name, datasets, backbones, sgfd, seeds' });

  const result = SuiteSpecSchema.safeParse(value);
  const lineOf = (path: (string | number)[]): number | undefined => {
    // The deepest node that exists on the path: a missing field points at its parent.
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? doc!.contents : doc!.getIn(path.slice(0, n), true);
      if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
    }
    return undefined;
  };
  if (!result.success) throw suiteSpecError(result.error, file, lineOf);
  checkBackbones(result.data, backbones, file, lineOf);
  checkMetrics(result.data, file, lineOf);
  return result.data;
}

function checkBackbones(
  spec: SuiteSpec,
  registered: readonly string[],
  file: string,
  lineOf: (path: (string | number)[]) => number | undefined,
): void {
  spec.backbones.forEach((name, i) => {
    if (registered.includes(name)) return;
    throw new ConfigError(`Invalid suite file: unknown backbone '${name}'`, {
      file,
      row: lineOf(['backbones', i]),
      field: formatPath(['backbones', i]),
      expected: `one of ${registered.join(', ')}`,
    });
  });
}

/** Metrics every evaluation reports: a typo here would only show after the whole suite has trained. */
export const REPORTED_METRICS: readonly string[] = ['recall', 'ndcg', 'precision', 'map', 'hit'].flatMap((m) =>
  DEFAULT_KS.map((k) => `${m}@${k}`),
);

function checkMetrics(spec: SuiteSpec, file: string, lineOf: (path: (string | number)[]) => number | undefined): void {
  const named: [(string | number)[], string][] = [
    [['selection', 'metric'], spec.selection.metric],
    ...spec.report.metrics.map((m, i): [(string | number)[], string] => [['report', 'metrics', i], m]),
  ];
  for (const [path, metric] of named) {
    if (!REPORTED_METRICS.includes(metric)) {
      throw new ConfigError(`Invalid suite file: unknown metric '${metric}'`, {
        file,
        row: lineOf(path),
        field: formatPath(path),
        expected: `one of ${REPORTED_METRICS.join(', ')}`,
      });
    }
  }
}

/** Reads and validates a suite file. */
export async function loadSuiteFile(path: string, backbones: readonly string[]): Promise<SuiteSpec> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError('Cannot read the suite file', {
      file: path,
      expected: 'a readable .yaml or .json file',
      found: code === 'ENOENT' ? 'no such file' : String(code ?? e),
    });
  }
  return parseSuiteText(text, path, backbones);
}
