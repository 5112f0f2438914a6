// A raw catalogue to a snapshot: read and validate the tables, extract the features (through the cache),
// write the snapshot with the id maps, the extraction settings and its problems recorded in the manifest.
import { ConfigError, type Modality } from '@sgfd/contracts';
import { readRawCatalogue, writeSnapshot, type RawCatalogueOptions, type WriteSnapshotResult } from '@sgfd/data';
import { extractFeatures, type ExtractOptions, type ItemProblem, type ModalityStats } from './extract-features';
import type { ModalityEncoder } from './modality-encoder';
import { createImageEncoder } from './image/image-modality';
import { resolveImageSettings, type ImageSettings } from './image/image-settings';
import { createTextEncoder, DEFAULT_TEXT_SETTINGS, type TextSettings } from './text/text-modality';

export interface ExtractionSettings {
  /** How texts are joined and cut; the columns are the catalogue's text columns. Absent: no text features. */
  text?: Partial<Omit<TextSettings, 'columns'>>;
  /** The image model and, where its sidecar does not declare them, its preprocessing. Absent: no image features. */
  image?: Partial<ImageSettings> & { model: string };
}

export interface ExtractDatasetOptions extends RawCatalogueOptions, ExtractOptions {
  extraction: ExtractionSettings;
  /** Snapshot root. */
  root: string;
  /** Directory of the text model (default: the cache of tools/text-encoder, or SGFD_TEXT_MODEL_DIR). */
  textModelDir?: string;
}

export interface ExtractDatasetResult extends WriteSnapshotResult {
  stats: Partial<Record<Modality, ModalityStats>>;
  problems: ItemProblem[];
  droppedUnknownItems: number;
}

/** Problems kept in the manifest (the count is always complete). */
const MAX_RECORDED_PROBLEMS = 100;

export async function extractDataset(options: ExtractDatasetOptions): Promise<ExtractDatasetResult> {
  const catalogue = await readRawCatalogue(options);
  const encoders: ModalityEncoder[] = [];
  try {
    const textColumns = options.columns?.text ?? [];
    if (options.extraction.text && textColumns.length > 0) {
      encoders.push(
        await createTextEncoder(
          { ...DEFAULT_TEXT_SETTINGS, ...options.extraction.text, columns: textColumns },
          { modelDir: options.textModelDir },
        ),
      );
    }
    if (options.extraction.image) {
      if (!options.columns?.image) {
        throw new ConfigError('An image model needs an image column', {
          field: 'columns.image',
          expected: 'the items column with image paths',
          found: 'none given',
        });
      }
      encoders.push(await createImageEncoder(await resolveImageSettings(options.extraction.image)));
    }
    const { features, stats, problems } = await extractFeatures(catalogue.items, encoders, options);
    const input = {
      ...catalogue.input,
      features,
      source: {
        ...catalogue.input.source,
        extraction: {
          modalities: Object.fromEntries(
            Object.entries(stats).map(([m, s]) => [m, { dim: s.dim, settings: s.settings, failed: s.failed }]),
          ),
          problems: problems.slice(0, MAX_RECORDED_PROBLEMS),
          problemCount: problems.length,
        },
      },
    };
    const written = await writeSnapshot(input, { root: options.root });
    return { ...written, stats, problems, droppedUnknownItems: catalogue.droppedUnknownItems };
  } finally {
    for (const encoder of encoders) await encoder.dispose();
  }
}
