// Runs the Wycheproof module (wycheproof/, built by test.sh) in node's WebAssembly: every
// ecdsa_secp256r1_sha256_p1363 vector through both signature paths, on the crate's 32-bit field
// arithmetic. Exits non-zero unless every vector got its verdict on both.
//
//   node wycheproof.mjs path/to/pomerium_jwt_wasm_wycheproof.wasm
import { readFileSync } from 'node:fs';

const bytes = readFileSync(process.argv[2]);
const { instance } = await WebAssembly.instantiate(bytes, {});
const vectors = instance.exports.wycheproof_vectors();
const started = process.hrtime.bigint();
const wrong = instance.exports.wycheproof_run();
const ms = Number(process.hrtime.bigint() - started) / 1e6;
console.log(`wycheproof: ${vectors} vectors, plain and W4 paths, ${wrong} wrong (${ms.toFixed(0)} ms)`);
process.exit(vectors > 0 && wrong === 0 ? 0 : 1);
