import { existsSync, readdirSync } from 'node:fs';

/**
 * Whether a CUDA device is visible to this process: the NVIDIA driver lists a GPU and CUDA_VISIBLE_DEVICES
 * does not hide every device. Checked before any GPU library is touched, so a machine without a GPU never
 * loads one.
 */
export function cudaDeviceVisible(
  env: NodeJS.ProcessEnv = process.env,
  driverDir = '/proc/driver/nvidia/gpus',
): boolean {
  const visible = env['CUDA_VISIBLE_DEVICES'];
  if (visible !== undefined && (visible.trim() === '' || visible.trim() === '-1' || visible === 'NoDevFiles'))
    return false;
  try {
    return existsSync(driverDir) && readdirSync(driverDir).length > 0;
  } catch {
    return false;
  }
}
