// Benchmark (not a test): the typical Pomerium token verified by this package, by jose 5
// (`jwtVerify` with a KeyObject, what Pomerium's JavaScript SDK uses) and by node's own
// `crypto.verify` of the same signature alone (OpenSSL: the native floor), interleaved in one
// run; then the cold start, the package's size and the module's memory.
//
//   cd js && npm ci && npm run build && node bench/bench.mjs [rounds]
import { readFileSync, statSync } from 'node:fs';
import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { jwtVerify } from 'jose';
import { createVerifier } from '../index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const data = path.join(here, '..', '..', 'tests', 'data');
const cases = JSON.parse(readFileSync(path.join(data, 'tokens.json'), 'utf8').replace(/("(?:now|leeway)":\s*)(\d{16,})/g, '$1"$2"'));
const typical = cases.find((c) => c.name === 'typical_pomerium');
const jwksText = readFileSync(path.join(data, typical.keys[0]), 'utf8');
const jwk = JSON.parse(jwksText).keys[0];
const keyObject = createPublicKey({ key: jwk, format: 'jwk' });
const { token, now, audience } = typical;
const [h, p, s] = token.split('.');
const signingInput = Buffer.from(`${h}.${p}`);
const signature = Buffer.from(s, 'base64url');

const ours = await createVerifier({ keys: jwksText, audience });
const joseOptions = { audience, issuer: audience, algorithms: ['ES256'], currentDate: new Date(now * 1000) };

const subjects = {
  'pomerium-jwt verify': () => ours.verify(token, { now }).sub,
  'jose 5 jwtVerify': async () => (await jwtVerify(token, keyObject, joseOptions)).payload.sub,
  'crypto.verify alone': () => cryptoVerify('sha256', signingInput, { key: keyObject, dsaEncoding: 'ieee-p1363' }, signature),
};
for (const [name, run] of Object.entries(subjects)) {
  const result = await run();
  if (result !== 'alice-id-0001' && result !== true) throw new Error(`${name} gave ${result}`);
}

const rounds = Number(process.argv[2] ?? 30);
const batch = 200;
const times = Object.fromEntries(Object.keys(subjects).map((name) => [name, []]));
for (let warm = 0; warm < 3; warm += 1) for (const run of Object.values(subjects)) for (let i = 0; i < batch; i += 1) await run();
for (let round = 0; round < rounds; round += 1) {
  // Interleaved, the order turning each round, so drift on a shared machine hits all alike.
  const names = Object.keys(subjects);
  for (let k = 0; k < names.length; k += 1) {
    const name = names[(round + k) % names.length];
    const run = subjects[name];
    const start = process.hrtime.bigint();
    for (let i = 0; i < batch; i += 1) await run();
    times[name].push(Number(process.hrtime.bigint() - start) / 1000 / batch);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const floor = median(times['crypto.verify alone']);
const jose = median(times['jose 5 jwtVerify']);
console.log(`node ${process.version}, ${rounds} interleaved rounds of ${batch}, median µs per verification`);
console.log('| | µs | vs jose | vs crypto.verify |\n| --- | ---: | ---: | ---: |');
for (const name of Object.keys(subjects)) {
  const m = median(times[name]);
  console.log(`| ${name} | ${m.toFixed(1)} | ${(m / jose).toFixed(2)}x | ${(m / floor).toFixed(2)}x |`);
}

// Cold start: a fresh node each time, from before the import to the first verified token.
const cold = (code) => {
  const runs = [];
  for (let i = 0; i < 7; i += 1) {
    runs.push(Number(execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd: here, encoding: 'utf8' }).trim()));
  }
  return median(runs);
};
const setup = `import { readFileSync } from 'node:fs'; const jwksText = readFileSync(${JSON.stringify(path.join(data, typical.keys[0]))}, 'utf8');
const token = ${JSON.stringify(token)}; const t0 = performance.now();`;
const oursCold = cold(`${setup} const { createVerifier } = await import('../index.js');
const t1 = performance.now(); const v = await createVerifier({ keys: jwksText, audience: ${JSON.stringify(audience)} });
v.verify(token, { now: ${now} }); console.log(performance.now() - t1);`);
const joseCold = cold(`${setup} const { jwtVerify, importJWK } = await import('jose');
const t1 = performance.now(); const key = await importJWK(JSON.parse(jwksText).keys[0], 'ES256');
await jwtVerify(token, key, { audience: ${JSON.stringify(audience)}, currentDate: new Date(${now * 1000}) }); console.log(performance.now() - t1);`);
console.log(`cold start (createVerifier + first verify, fresh node, median of 7): ${oursCold.toFixed(1)} ms; jose importJWK + first jwtVerify: ${joseCold.toFixed(1)} ms`);

const wasmPath = path.join(here, '..', 'pomerium_jwt.wasm');
const { instance } = await WebAssembly.instantiate(readFileSync(wasmPath), {});
console.log(`module: ${statSync(wasmPath).size} bytes; memory per verifier: ${instance.exports.memory.buffer.byteLength / 65536} pages (${(instance.exports.memory.buffer.byteLength / 1048576).toFixed(2)} MiB)`);
