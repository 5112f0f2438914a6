// The built-in backbones: one file each, registered here in one line each.
import { registerBackbone } from '../registry';
import { vbprDefinition } from './vbpr';

registerBackbone(vbprDefinition);

export { Vbpr, VbprParamsSchema, vbprDefinition } from './vbpr';
export type { VbprParams } from './vbpr';
