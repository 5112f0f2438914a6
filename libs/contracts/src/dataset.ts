import { z } from 'zod';

export const DATASET_SCHEMA_VERSION = 1;
export const MODALITIES = ['image', 'text'] as const;
export type Modality = (typeof MODALITIES)[number];

export const SplitCode = { train: 0, valid: 1, test: 2 } as const;

const FileEntrySchema = z.object({
  path: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().nonnegative(),
});

export const DatasetManifestSchema = z.object({
  schemaVersion: z.literal(DATASET_SCHEMA_VERSION),
  /** Content hash of the snapshot's data files: the same data always gets the same id. */
  id: z.string().regex(/^[0-9a-f]{64}$/),
  counts: z.object({
    users: z.number().int().positive(),
    items: z.number().int().positive(),
    interactions: z.number().int().positive(),
    train: z.number().int().nonnegative(),
    valid: z.number().int().nonnegative(),
    test: z.number().int().nonnegative(),
  }),
  /** Number of item categories, or null when the source has none (SGFD cannot run then). */
  categories: z.number().int().positive().nullable(),
  modalities: z.array(z.object({ name: z.enum(MODALITIES), dim: z.number().int().positive(), file: z.string() })),
  files: z.array(FileEntrySchema),
  source: z.object({ kind: z.enum(['mmrec', 'parquet', 'synthetic', 'raw']), description: z.string() }).passthrough(),
});
export type DatasetManifest = z.infer<typeof DatasetManifestSchema>;
