// Runs the pomerium-jwt WebAssembly module in node's built-in WebAssembly (no npm packages) and
// checks it: the C ABI, a valid, an expired, a tampered and a malformed token, a token signed
// just now with node's own crypto and checked against the real clock, every token fixture of
// tests/data/tokens.json, and that verification never grows the module's memory.
//
//   node embed/wasm/run.mjs [path/to/pomerium_jwt_wasm.wasm]
//
// Prints one line per failure and a last line "N passed, M failed"; exits 1 on any failure.

import { readFileSync } from 'node:fs';
import { sign } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const data = path.join(here, '..', '..', 'tests', 'data');
const wasmPath = process.argv[2] ?? path.join(here, 'target', 'wasm32-unknown-unknown', 'release', 'pomerium_jwt_wasm.wasm');

// The status codes of src/lib.rs (`Status`), by name.
const S = {
  ok: 0, token_too_large: 1, capacity: 2, segments: 3, base64: 4, signature_length: 5, json: 6,
  unsupported_algorithm: 7, critical_header: 8, bad_header: 9, unknown_key: 10, bad_signature: 11,
  missing_claim: 12, invalid_claim: 13, expired: 14, not_yet_valid: 15, issued_in_future: 16,
  wrong_audience: 17, wrong_issuer: 18, key: 19, other_error: 63, not_configured: 64, too_long: 65,
  output_too_small: 66, bad_name: 67, busy: 68,
};
const NAMES = Object.fromEntries(Object.entries(S).map(([name, code]) => [code, name]));

// The verdict names of tests/data/tokens.json, for each status (as tests/fixtures.rs maps errors).
const KIND = {
  [S.segments]: 'malformed', [S.base64]: 'malformed', [S.signature_length]: 'malformed', [S.json]: 'malformed',
  [S.token_too_large]: 'too_large', [S.capacity]: 'too_large', [S.unsupported_algorithm]: 'unsupported_alg',
  [S.critical_header]: 'crit', [S.bad_header]: 'bad_header', [S.unknown_key]: 'unknown_key',
  [S.bad_signature]: 'bad_signature', [S.expired]: 'expired', [S.not_yet_valid]: 'not_yet_valid',
  [S.issued_in_future]: 'issued_in_future', [S.wrong_audience]: 'wrong_audience', [S.wrong_issuer]: 'wrong_issuer',
  [S.missing_claim]: 'missing_claim', [S.invalid_claim]: 'invalid_claim', [S.ok]: 'ok',
};

/// The whole host side of the ABI: copy bytes in, call, read the JSON document out.
class Module {
  constructor(instance) {
    this.x = instance.exports;
  }
  memory() {
    // Re-read every time: a grown memory detaches the old ArrayBuffer.
    return this.x.memory.buffer;
  }
  put(input) {
    const bytes = typeof input === 'string' ? new TextEncoder().encode(input) : input;
    const capacity = this.x.input_capacity();
    if (bytes.length > capacity) throw new Error(`input of ${bytes.length} bytes > capacity ${capacity}`);
    new Uint8Array(this.memory(), this.x.input_ptr(), bytes.length).set(bytes);
    return bytes.length;
  }
  result(status) {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(
      new Uint8Array(this.memory(), this.x.output_ptr(), this.x.output_len()));
    return { status, name: NAMES[status], doc: JSON.parse(text), text };
  }
  loadKeys(file) { return this.result(this.x.load_keys(this.put(file))); }
  addKeys(file) { return this.result(this.x.add_keys(this.put(file))); }
  setAudience(aud) { return this.result(this.x.set_audience(this.put(aud))); }
  setIssuer(iss) { return this.result(this.x.set_issuer(this.put(iss ?? ''))); }
  setLeeway(secs) { return this.result(this.x.set_leeway(BigInt(secs))); }
  verify(token, now) { return this.result(this.x.verify(this.put(token), BigInt(now))); }
}

const bytes = readFileSync(wasmPath);
const compiled = await WebAssembly.compile(bytes);
const fresh = async () => new Module(await WebAssembly.instantiate(compiled, {}));

let passed = 0;
let failed = 0;
function check(name, ok, detail = '') {
  if (ok) {
    passed += 1;
  } else {
    failed += 1;
    console.log(`FAIL ${name}${detail ? `: ${detail}` : ''}`);
  }
}
function expectStatus(name, got, want) {
  check(name, got.status === want, `status ${got.status} (${got.name}) ${got.text}, want ${want} (${NAMES[want]})`);
}

const b64url = (buf) => Buffer.from(buf).toString('base64url');
const fromB64url = (text) => Buffer.from(text, 'base64url');
const file = (name) => readFileSync(path.join(data, name));
// `now` and `leeway` go up to u64::MAX, beyond a double's 2^53: keep big ones as strings for BigInt.
const cases = JSON.parse(readFileSync(path.join(data, 'tokens.json'), 'utf8')
  .replace(/("(?:now|leeway)":\s*)(\d{16,})/g, '$1"$2"'));
const typical = cases.find((c) => c.name === 'typical_pomerium');

// ---- the ABI itself
check('module imports nothing', WebAssembly.Module.imports(compiled).length === 0,
  JSON.stringify(WebAssembly.Module.imports(compiled)));
const exported = WebAssembly.Module.exports(compiled).map((e) => e.name);
for (const name of ['memory', 'input_ptr', 'input_capacity', 'output_ptr', 'output_len', 'load_keys', 'add_keys',
  'set_audience', 'set_issuer', 'set_leeway', 'verify']) {
  check(`exports ${name}`, exported.includes(name), exported.join(' '));
}

const m = await fresh();
expectStatus('verify before configuration', m.verify(typical.token, typical.now), S.not_configured);
const priv = m.loadKeys(file('python/key1.private.pem'));
expectStatus('a private key is refused', priv, S.key);
check('the refusal says to pass the public key', /public key/.test(priv.doc.message ?? ''), priv.text);
expectStatus('a JWKS loads', m.loadKeys(file('python/key1.jwks.json')), S.ok);
check('load_keys reports the key count', m.result(0).doc.keys === 1, m.result(0).text);
expectStatus('verify before set_audience', m.verify(typical.token, typical.now), S.not_configured);
expectStatus('an empty audience is refused', m.setAudience(''), S.bad_name);
expectStatus('set_audience', m.setAudience(typical.audience), S.ok);

// ---- valid, expired, tampered, malformed
const valid = m.verify(typical.token, typical.now);
expectStatus('valid token', valid, S.ok);
check('valid token: sub', valid.doc.sub === 'alice-id-0001', valid.text);
check('valid token: email', valid.doc.email === 'alice@example.com', valid.text);
check('valid token: groups', isDeepStrictEqual(valid.doc.groups, ['admins', 'devs']), valid.text);
check('valid token: the whole document', isDeepStrictEqual(valid.doc, typical.claims), valid.text);

// exp is 1700000300 and the leeway 60 s: at exp + leeway the token is expired.
const expired = m.verify(typical.token, typical.claims.exp + 60);
expectStatus('expired token', expired, S.expired);
check('expired: the message names exp and now', /1700000300.*1700000360/.test(expired.doc.message), expired.text);
expectStatus('one second earlier it is valid', m.verify(typical.token, typical.claims.exp + 59), S.ok);

const [h, p, sig] = typical.token.split('.');
const flipped = Buffer.from(fromB64url(sig));
flipped[10] ^= 0x01;
expectStatus('tampered signature', m.verify(`${h}.${p}.${b64url(flipped)}`, typical.now), S.bad_signature);
const claims = JSON.parse(fromB64url(p).toString('utf8'));
const forged = b64url(JSON.stringify({ ...claims, email: 'mallory@example.com', groups: ['admins'] }));
expectStatus('tampered claims, original signature', m.verify(`${h}.${forged}.${sig}`, typical.now), S.bad_signature);
const none = b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }));
expectStatus('alg none', m.verify(`${none}.${p}.`, typical.now), S.segments);
expectStatus('alg none, with a signature', m.verify(`${none}.${p}.${sig}`, typical.now), S.unsupported_algorithm);
expectStatus('malformed: not a JWT', m.verify('not-a-jwt', typical.now), S.segments);
expectStatus('malformed: padded base64', m.verify(`${h}=.${p}.${sig}`, typical.now), S.base64);
expectStatus('malformed: empty', m.verify('', typical.now), S.segments);
// A header over 1 KiB is refused unread, with the library's capacity error that names it.
for (const [name, want] of [['header_1024_bytes', S.ok], ['header_1025_bytes', S.capacity], ['header_8k', S.capacity]]) {
  const c = cases.find((x) => x.name === name);
  const got = m.verify(c.token, c.now);
  expectStatus(name, got, want);
  if (want === S.capacity) check(`${name} names the header`, got.text.includes('header is larger than 1024 bytes'), got.text);
}
const tooLong = m.result(m.x.verify(m.x.input_capacity() + 1, 0n));
expectStatus('a length over input_capacity', tooLong, S.too_long);

// ---- other audience, issuer, leeway
expectStatus('set another audience', m.setAudience('other.example.com'), S.ok);
expectStatus('token for another audience', m.verify(typical.token, typical.now), S.wrong_audience);
m.setAudience(typical.audience);
expectStatus('set_issuer', m.setIssuer('https://authenticate.example.com'), S.ok);
expectStatus('token from another issuer', m.verify(typical.token, typical.now), S.wrong_issuer);
expectStatus('set_issuer with length 0 restores the default', m.setIssuer(''), S.ok);
expectStatus('leeway 0', m.setLeeway(0), S.ok);
expectStatus('at exp with leeway 0', m.verify(typical.token, typical.claims.exp), S.expired);
m.setLeeway(60);
expectStatus('a bad key reload', m.loadKeys(file('python/jwks-broken-offcurve.json')), S.key);
expectStatus('keeps the previous keys', m.verify(typical.token, typical.now), S.ok);

// ---- a token signed just now by node's crypto, checked against the real clock
const kid = JSON.parse(file('python/key1.jwks.json')).keys[0].kid;
const nowSecs = Math.floor(Date.now() / 1000);
function signNow(payload) {
  const input = `${b64url(JSON.stringify({ alg: 'ES256', kid, typ: 'JWT' }))}.${b64url(JSON.stringify(payload))}`;
  const signature = sign('sha256', Buffer.from(input), {
    key: file('python/key1.private.pem'), dsaEncoding: 'ieee-p1363',
  });
  return `${input}.${b64url(signature)}`;
}
const live = signNow({
  aud: 'app.example.com', iss: 'app.example.com', sub: 'bob-id', email: 'bob@example.com',
  groups: ['ops', 'on-call \u263a'], iat: nowSecs, exp: nowSecs + 300,
});
const liveResult = m.verify(live, nowSecs);
expectStatus('token signed now, verified at the real time', liveResult, S.ok);
check('token signed now: identity', liveResult.doc.sub === 'bob-id' && liveResult.doc.email === 'bob@example.com'
  && isDeepStrictEqual(liveResult.doc.groups, ['ops', 'on-call \u263a']), liveResult.text);
const stale = signNow({ aud: 'app.example.com', iss: 'app.example.com', sub: 'bob-id', iat: nowSecs - 900, exp: nowSecs - 600 });
expectStatus('token that expired ten minutes ago', m.verify(stale, nowSecs), S.expired);

// ---- every token fixture, each in a fresh configuration
const sweep = await fresh();
for (const c of cases) {
  const name = `fixture ${c.name}`;
  let result = sweep.loadKeys(file(c.keys[0]));
  for (const extra of c.keys.slice(1)) result = result.status === S.ok ? sweep.addKeys(file(extra)) : result;
  if (result.status !== S.ok) {
    check(name, false, `keys ${c.keys}: ${result.text}`);
    continue;
  }
  sweep.setAudience(c.audience);
  sweep.setIssuer(c.issuer);
  sweep.setLeeway(c.leeway ?? 60);
  const got = sweep.verify(c.token, c.now);
  const kind = KIND[got.status] ?? `status ${got.status}`;
  check(name, kind === c.expect, `expected ${c.expect}, got ${kind} ${got.text}`);
  if (c.expect === 'ok' && kind === 'ok') {
    // The known claims as the manifest has them, then every other claim of the signed payload.
    const payload = JSON.parse(fromB64url(c.token.split('.')[1]).toString('utf8'));
    const others = Object.fromEntries(Object.entries(payload).filter(([k]) => !(k in c.claims)));
    const want = { ...c.claims, ...others };
    check(`${name}: claims`, isDeepStrictEqual(got.doc, want), `${got.text} != ${JSON.stringify(want)}`);
  }
}

// ---- custom claims (Go-shaped, tests/data/gen-custom-claims.py): every claim passed on, and
// nothing a terminal acts on (DEL, C1, bidi) left raw in the output
const custom = JSON.parse(readFileSync(new URL('../../tests/data/python/custom/cases.json', import.meta.url), 'utf8'));
const unsafeChar = /[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u;
const withCustom = await fresh();
withCustom.loadKeys(file('python/key1.jwks.json'));
withCustom.setAudience('app.example.com');
for (const c of custom) {
  const got = withCustom.verify(c.token, 1700000100);
  const want = { ok: S.ok, duplicate: S.json, wrong_audience: S.wrong_audience }[c.verdict];
  check(`custom ${c.name}: status`, got.status === want, `${got.status} ${got.text}`);
  check(`custom ${c.name}: terminal-safe output`, !unsafeChar.test(got.text), got.text);
  if (c.verdict === 'ok') {
    const signed = JSON.parse(c.payload);
    const known = ['iss', 'aud', 'sub', 'email', 'user', 'name', 'sid', 'jti', 'groups', 'exp', 'iat', 'nbf'];
    const others = Object.fromEntries(Object.entries(got.doc).filter(([k]) => !known.includes(k)));
    const signedOthers = Object.fromEntries(Object.entries(signed).filter(([k]) => !known.includes(k)));
    check(`custom ${c.name}: every other claim`, isDeepStrictEqual(others, signedOthers), `${got.text}`);
  }
}

// ---- no growth: nothing allocates, so memory stays as the module declared it
const before = m.memory().byteLength;
const rounds = 300;
const started = process.hrtime.bigint();
let allOk = true;
for (let i = 0; i < rounds; i += 1) allOk &&= m.x.verify(m.put(typical.token), BigInt(typical.now)) === S.ok;
const micros = Number(process.hrtime.bigint() - started) / 1000 / rounds;
check(`${rounds} verifications succeed`, allOk);
check('memory does not grow', m.memory().byteLength === before, `${before} -> ${m.memory().byteLength}`);

console.log(`module: ${bytes.length} bytes, ${before / 65536} pages of memory, ${micros.toFixed(0)} us per verify`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
