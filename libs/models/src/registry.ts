import { ConfigError } from '@sgfd/contracts';
import type { z } from 'zod';
import type { Backbone, BackboneContext, BackboneData } from './backbone';
import type { KnnGraphSpec } from './graph/knn-store';

/** How to build one backbone: its hyperparameter schema (with MMRec's defaults) and its factory. */
export interface BackboneDefinition<P = unknown> {
  name: string;
  paramsSchema: z.ZodType<P>;
  create(context: BackboneContext<P>): Backbone;
  /** The item kNN graphs the backbone needs, so a trainer can load them from the artifact store first. */
  knnGraphs?(params: P, data: BackboneData): KnnGraphSpec[];
}

const definitions = new Map<string, BackboneDefinition<never>>();

export function registerBackbone<P>(definition: BackboneDefinition<P>): void {
  if (definitions.has(definition.name)) throw new Error(`backbone '${definition.name}' is registered twice`);
  definitions.set(definition.name, definition as unknown as BackboneDefinition<never>);
}

export function registeredBackbones(): string[] {
  return [...definitions.keys()].sort();
}

function definition(name: string): BackboneDefinition<unknown> {
  const def = definitions.get(name);
  if (!def) {
    throw new ConfigError(`Unknown backbone '${name}'`, {
      field: 'backbone',
      expected: registeredBackbones().join(' | '),
      found: name,
    });
  }
  return def as unknown as BackboneDefinition<unknown>;
}

/** Validates `backboneParams` with the backbone's schema and fills its defaults. */
export function parseBackboneParams(name: string, raw: unknown): unknown {
  const result = definition(name).paramsSchema.safeParse(raw ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw new ConfigError(`Invalid parameters for backbone '${name}': ${issue.message}`, {
    field: ['backboneParams', ...issue.path.map(String)].join('.'),
  });
}

/** The item kNN graphs a backbone with these (raw) parameters needs on this data; none for most backbones. */
export function knnGraphSpecs(name: string, raw: unknown, data: BackboneData): KnnGraphSpec[] {
  return definition(name).knnGraphs?.(parseBackboneParams(name, raw), data) ?? [];
}

/** Builds a registered backbone; `context.params` is the raw `backboneParams` object. */
export function createBackbone(name: string, context: BackboneContext<unknown>): Backbone {
  const params = parseBackboneParams(name, context.params);
  return definition(name).create({ ...context, params });
}
