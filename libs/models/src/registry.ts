import { ConfigError } from '@sgfd/contracts';
import type { z } from 'zod';
import type { Backbone, BackboneContext, BackboneData } from './backbone';
import type { KnnGraphSpec } from './graph/knn-source';

/** How to build one backbone: its hyperparameter schema (with MMRec's defaults) and its factory. */
export interface BackboneDefinition<P = unknown> {
  name: string;
  paramsSchema: z.ZodType<P>;
  create(context: BackboneContext<P>): Backbone;
  /** The item kNN graphs the backbone needs, so a trainer can load them from the artifact store first. */
  knnGraphs?(params: P, data: BackboneData): KnnGraphSpec[];
  /** For the docs: the backbone's display name, what its projection slots are and what reads them. */
  slots: { title: string; slot: string; consumedBy: string };
  /** How the registry-wide contract test checks this backbone's gradients; defaults fit most backbones. */
  gradientCheck?: GradientCheckSpec;
}

/**
 * Small parameters under which the checked loss is smooth and deterministic at initialisation, so central
 * finite differences apply: e.g. no dropout, a hinge kept active, a kNN selection that probes cannot flip.
 * Widths of 2 keep the check fast (it probes every weight); without params the defaults are checked.
 */
export interface GradientCheckSpec {
  /** Raw backboneParams, validated by the backbone's schema. */
  params?: Record<string, unknown>;
  /** A loss part to check instead of the total (BM3's total has stop-gradient targets that probes would move). */
  part?: string;
  /** Start an epoch before every loss evaluation (LATTICE rebuilds its graph, with gradients, in an epoch's first batch). */
  epochStartPerProbe?: boolean;
}

const definitions = new Map<string, BackboneDefinition<never>>();

export function registerBackbone<P>(definition: BackboneDefinition<P>): void {
  if (definitions.has(definition.name)) throw new Error(`backbone '${definition.name}' is registered twice`);
  definitions.set(definition.name, definition as unknown as BackboneDefinition<never>);
}

export function registeredBackbones(): string[] {
  return [...definitions.keys()];
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

/** Every registered definition, in name order (the docs are generated from them). */
export function registeredDefinitions(): BackboneDefinition<unknown>[] {
  return registeredBackbones().map(definition);
}

/** How the contract test checks this backbone's gradients (see GradientCheckSpec). */
export function gradientCheckSpec(name: string): GradientCheckSpec {
  return definition(name).gradientCheck ?? {};
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
