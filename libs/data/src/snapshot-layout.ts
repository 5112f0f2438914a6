import type { Modality } from '@sgfd/contracts';

export const INTERACTIONS_FILE = 'interactions.parquet';
export const ITEMS_FILE = 'items.parquet';
/** Only in snapshots of sources with their own ids: user index -> original id. */
export const USERS_FILE = 'users.parquet';
export const MANIFEST_FILE = 'manifest.json';
export const TEMP_PREFIX = '.tmp-';

export function featureFile(modality: Modality): string {
  return `${modality}.arrow`;
}
