/** Builds .npy file bytes with any header (versions 1-3, any dtype string), to test the reader's checks. */
export function npyBytes(options: {
  descr: string;
  shape: number[];
  values: ArrayBufferView;
  version?: 1 | 2 | 3;
  fortranOrder?: boolean;
}): Uint8Array {
  const version = options.version ?? 1;
  const shape = `(${options.shape.join(', ')}${options.shape.length === 1 ? ',' : ''})`;
  const dict = `{'descr': '${options.descr}', 'fortran_order': ${options.fortranOrder ? 'True' : 'False'}, 'shape': ${shape}, }`;
  const lengthBytes = version === 1 ? 2 : 4;
  const unpadded = 8 + lengthBytes + dict.length + 1;
  const total = Math.ceil(unpadded / 64) * 64;
  const headerText = new TextEncoder().encode(dict.padEnd(total - 8 - lengthBytes - 1, ' ') + '\n');
  const body = new Uint8Array(options.values.buffer, options.values.byteOffset, options.values.byteLength);
  const out = new Uint8Array(total + body.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0], 0);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, total - 10, true);
  else view.setUint32(8, total - 12, true);
  out.set(headerText, 8 + lengthBytes);
  out.set(body, total);
  return out;
}
