// Makes the calls of calls.py (one per line on stdin) on the pomerium-jwt WebAssembly module in
// node's built-in WebAssembly (V8) and answers each with one line on stdout; see calls.py.
//
//   node node.mjs MODULE.wasm < calls.txt > answers.txt

import { readFileSync } from 'node:fs';

const [wasmPath] = process.argv.slice(2);
const { instance } = await WebAssembly.instantiate(readFileSync(wasmPath), {});
const x = instance.exports;

const fromHex = (hex) => (hex === '-' ? new Uint8Array(0) : Buffer.from(hex, 'hex'));
const toHex = (bytes) => (bytes.length === 0 ? '-' : Buffer.from(bytes).toString('hex'));
// Wasm i64 arguments are BigInts; a u64 above 2^63 - 1 goes in as its two's complement.
const u64 = (text) => BigInt.asIntN(64, BigInt(text));

function put(bytes) {
  new Uint8Array(x.memory.buffer, x.input_ptr(), bytes.length).set(bytes);
  return bytes.length;
}
const output = () => new Uint8Array(x.memory.buffer, x.output_ptr(), x.output_len()).slice();

const out = [];
for (const line of readFileSync(0, 'ascii').split('\n')) {
  if (line === '') continue;
  const [call, a, b, c] = line.split(' ');
  let status;
  switch (call) {
    case 'load_keys': case 'add_keys': case 'set_audience': case 'set_issuer':
      status = x[call](put(fromHex(a)));
      break;
    case 'set_leeway':
      status = x.set_leeway(u64(a));
      break;
    case 'verify':
      status = x.verify(put(fromHex(a)), u64(b));
      break;
    case 'bench': {
      const token = fromHex(b);
      const now = u64(c);
      const budget = BigInt(a) * 1_000_000n;
      let rounds = 0;
      const started = process.hrtime.bigint();
      let elapsed = 0n;
      while (rounds < 3 || elapsed < budget) {
        status = x.verify(put(token), now);
        rounds += 1;
        elapsed = process.hrtime.bigint() - started;
      }
      out.push(`bench ${status} ${rounds} ${elapsed}`);
      continue;
    }
    default:
      throw new Error(`unknown call ${call}`);
  }
  out.push(`${call} ${status} ${toHex(output())}`);
}
process.stdout.write(out.join('\n') + '\n');
