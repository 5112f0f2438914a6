import { ARTIFACT_KINDS } from '@sgfd/contracts';
import { z } from 'zod';

export const ARTIFACT_MANIFEST_FILE = 'manifest.json';
export const ARTIFACT_FORMAT_VERSION = 1;

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a hex sha256');

export const ArtifactFileSchema = z.object({
  /** Path inside the artifact, '/'-separated. */
  path: z.string().min(1),
  sha256: Sha256,
  bytes: z.number().int().nonnegative(),
});
export type ArtifactFile = z.infer<typeof ArtifactFileSchema>;

/**
 * Written last, after every file of the artifact is in place: an artifact exists exactly when its
 * manifest does. It lists each file's sha256, so the manifest's own hash pins the whole content.
 */
export const ArtifactManifestSchema = z.object({
  formatVersion: z.literal(ARTIFACT_FORMAT_VERSION),
  kind: z.enum(ARTIFACT_KINDS),
  key: z.string().regex(/^[0-9a-f]{64}$/, 'a hex sha256 key'),
  files: z.array(ArtifactFileSchema),
  /** Small JSON the builder returned (metrics, shapes, ids); never tensors. */
  meta: z.unknown(),
});
export type ArtifactManifest = z.infer<typeof ArtifactManifestSchema>;
