// Time of one verification without tables in node: the module loads tests/data's jwks-100.json
// (100 keys, more than get tables, so `verify` takes the plain path) and verifies
// typical_pomerium in five batches of 100; prints the best batch's time per verify.
//
//   node embed/wasm/time-plain.mjs [path/to/pomerium_jwt_wasm.wasm]
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const data = path.join(here, '..', '..', 'tests', 'data');
const wasmPath = process.argv[2] ?? path.join(here, 'target', 'wasm32-unknown-unknown', 'release', 'pomerium_jwt_wasm.wasm');
const { instance } = await WebAssembly.instantiate(readFileSync(wasmPath), {});
const x = instance.exports;
const put = (input) => {
  const bytes = typeof input === 'string' ? new TextEncoder().encode(input) : input;
  new Uint8Array(x.memory.buffer, x.input_ptr(), bytes.length).set(bytes);
  return bytes.length;
};
const typical = JSON.parse(readFileSync(path.join(data, 'tokens.json'), 'utf8')).find((c) => c.name === 'typical_pomerium');
if (x.load_keys(put(readFileSync(path.join(data, 'python', 'jwks-100.json')))) !== 0) throw new Error('load_keys failed');
if (x.set_audience(put(typical.audience)) !== 0) throw new Error('set_audience failed');
let best = Infinity;
for (let batch = 0; batch < 5; batch += 1) {
  const rounds = 100;
  const started = process.hrtime.bigint();
  for (let i = 0; i < rounds; i += 1) {
    if (x.verify(put(typical.token), BigInt(typical.now)) !== 0) throw new Error('verify failed');
  }
  best = Math.min(best, Number(process.hrtime.bigint() - started) / 1000 / rounds);
}
console.log(`${best.toFixed(0)} us per verify without tables (best of 5 batches of 100)`);
