// Exits 0 and prints the adapter name when a WebGPU adapter is available.
import { create, globals } from 'webgpu';
Object.assign(globalThis, globals);
const gpu = create([]);
const adapter = await gpu.requestAdapter();
if (!adapter) {
  console.error('no WebGPU adapter');
  process.exit(1);
}
const i = adapter.info;
console.log([i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' / '));
process.exit(0);
