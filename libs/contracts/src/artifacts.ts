import { z } from 'zod';

export const ARTIFACT_KINDS = [
  'snapshot',
  'teacher',
  'model',
  'checkpoint',
  'evaluation',
  'recommendations',
  'report',
  'knn-graph',
  'champion',
  /** One finished chunk of encoded item features (feature extraction's cache), see libs/extract. */
  'features',
] as const;
export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];

/** A pointer to bytes in the artifact store; the only way large data crosses a workflow boundary. */
export const ArtifactRefSchema = z.object({
  uri: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'a hex sha256'),
  bytes: z.number().int().nonnegative(),
  kind: z.enum(ARTIFACT_KINDS),
});
export type ArtifactRef = z.infer<typeof ArtifactRefSchema>;
