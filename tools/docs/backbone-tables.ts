// The backbone tables of docs/backbones.md, generated from the registry: each backbone's zod schema gives
// its parameters, defaults and (in `.meta`) meaning and search grid; its definition gives its slots.
// `npx tsx tools/docs/backbone-tables.ts` rewrites them; tools/docs/backbone-tables.test.ts fails when stale.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { registeredDefinitions, type BackboneDefinition } from '@sgfd/models';
import { REPO_ROOT } from '../src/index';

export const BACKBONES_DOC = join(REPO_ROOT, 'docs', 'backbones.md');
const PARAMS = ['<!-- generated: backbone parameters -->', '<!-- end: backbone parameters -->'] as const;
const SLOTS = ['<!-- generated: backbone slots -->', '<!-- end: backbone slots -->'] as const;

interface ParamMeta {
  description?: string;
  grid?: string;
}

/** 1e-3 as "1e-3", 0.5 as "0.5", as the papers and MMRec's YAML write them. */
function formatDefault(value: unknown): string {
  if (typeof value !== 'number') return String(value);
  return value !== 0 && Math.abs(value) < 0.01 ? value.toExponential().replace('e-', 'e-') : String(value);
}

const cell = (text: string | undefined) => (text ?? '').replace(/\|/g, '\\|');
const row = (cells: string[]) => `|${cells.map((c) => (c ? ` ${c} ` : ' ')).join('|')}|`;

function parameterRows(definition: BackboneDefinition<unknown>): string[] {
  const schema = definition.paramsSchema as unknown as z.ZodObject;
  const defaults = schema.parse({}) as Record<string, unknown>;
  return Object.entries(schema.shape).map(([key, field], i) => {
    const meta = ((field as z.ZodType).meta() ?? {}) as ParamMeta;
    const name = i === 0 ? `\`${definition.name}\`` : '';
    return row([name, `\`${key}\``, formatDefault(defaults[key]), cell(meta.grid), cell(meta.description)]);
  });
}

export function parameterTable(): string {
  return [
    '| backbone | parameter | default | grid (MMRec / authors) | meaning |',
    '|---|---|---|---|---|',
    ...registeredDefinitions().flatMap(parameterRows),
  ].join('\n');
}

export function slotTable(): string {
  return [
    '| backbone | slot | what consumes it |',
    '|---|---|---|',
    ...registeredDefinitions().map((d) => row([d.slots.title, d.slots.slot, d.slots.consumedBy])),
  ].join('\n');
}

function replaceBetween(text: string, [begin, end]: readonly [string, string], body: string): string {
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`${BACKBONES_DOC}: markers ${begin} ... ${end} not found`);
  return `${text.slice(0, from + begin.length)}\n${body}\n${text.slice(to)}`;
}

/** docs/backbones.md with both tables as the registry gives them now. */
export async function renderBackbonesDoc(): Promise<{ current: string; generated: string }> {
  const current = await readFile(BACKBONES_DOC, 'utf8');
  const generated = replaceBetween(replaceBetween(current, PARAMS, parameterTable()), SLOTS, slotTable());
  return { current, generated };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { current, generated } = await renderBackbonesDoc();
  if (generated === current) console.log(`${BACKBONES_DOC} is up to date`);
  else {
    await writeFile(`${BACKBONES_DOC}.tmp`, generated);
    await rename(`${BACKBONES_DOC}.tmp`, BACKBONES_DOC);
    console.log(`rewrote the tables of ${BACKBONES_DOC}`);
  }
}
