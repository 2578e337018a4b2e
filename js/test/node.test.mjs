// The package as installed from its tarball, in node: the fixtures' verdicts and claims, every
// error code, key forms and key errors, the token's header-name and Bearer forms, key reloads.
// Run by ci.sh from an empty folder where the tarball is installed; POMERIUM_JWT_DATA names the
// repository's tests/data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createVerifier, VerifyError, KeyError } from 'pomerium-jwt';
import { cases, expectedCode, keyFile, data, signer, verdict } from './helpers.mjs';

const typical = cases.find((c) => c.name === 'typical_pomerium');
const typicalKeys = () => typical.keys.map(keyFile);

test('every case of tests/data/tokens.json gives the library verdict and claims', async () => {
  let checked = 0;
  const failures = [];
  // One verifier per configuration (each builds its tables once), as an app would have.
  const verifiers = new Map();
  for (const c of cases) {
    const want = expectedCode(c);
    let got;
    try {
      const config = JSON.stringify([c.keys, c.audience, c.issuer, c.leeway]);
      if (!verifiers.has(config)) {
        verifiers.set(config, await createVerifier({
          keys: c.keys.map(keyFile),
          audience: c.audience,
          issuer: c.issuer ?? undefined,
          leeway: c.leeway == null ? undefined : BigInt(c.leeway),
        }));
      }
      const verifier = verifiers.get(config);
      got = verdict(() => verifier.verify(c.token, { now: BigInt(c.now) }));
    } catch (error) {
      got = { code: `createVerifier threw ${error}` };
    }
    if (got.code !== want) failures.push(`${c.name}: ${got.code} (${got.message ?? ''}), want ${want}`);
    else if (want === 'ok') {
      // The fixture lists the known claims; every other claim must come back as the payload has it.
      const payload = JSON.parse(Buffer.from(c.token.trim().split('.')[1], 'base64url').toString('utf8'));
      const others = Object.fromEntries(Object.entries(payload).filter(([name]) => !(name in c.claims)));
      try {
        assert.deepStrictEqual(got.claims, { ...c.claims, ...others });
      } catch {
        failures.push(`${c.name}: claims ${JSON.stringify(got.claims)}, want ${JSON.stringify(c.claims)}`);
      }
    }
    checked += 1;
  }
  assert.deepStrictEqual(failures, []);
  assert.ok(checked >= 370, `only ${checked} cases`);
});

test('verify returns a plain object: nulls for absent claims, groups [] when absent, custom claims kept', async () => {
  const s = signer();
  const verifier = await createVerifier({ keys: s.jwks, audience: 'app.example.com' });
  const token = s.sign({ iss: 'app.example.com', aud: ['app.example.com', 'other'], exp: 2000, iat: 1000, given_name: 'Al', n: { a: [1, 2] } });
  const claims = verifier.verify(token, { now: 1500 });
  assert.equal(Object.getPrototypeOf(claims), Object.prototype);
  assert.deepStrictEqual(claims, {
    iss: 'app.example.com', aud: ['app.example.com', 'other'], sub: null, email: null, user: null, name: null,
    sid: null, jti: null, groups: [], exp: 2000, iat: 1000, nbf: null, given_name: 'Al', n: { a: [1, 2] },
  });
  const withNbf = verifier.verify(s.sign({ iss: 'pomerium-proxy', aud: 'app.example.com', exp: 2000, iat: 1000, nbf: 1000, groups: ['g'] }), { now: 1500 });
  assert.equal(withNbf.nbf, 1000);
  assert.deepStrictEqual(withNbf.groups, ['g']);
});

test('each error code, with messages in words', async () => {
  const s = signer();
  const other = signer();
  const verifier = await createVerifier({ keys: s.jwks, audience: 'app.example.com' });
  const claims = { iss: 'app.example.com', aud: 'app.example.com', exp: 2000, iat: 1000, sub: 'alice' };
  const good = s.sign(claims);
  const reject = (token, now = 1500, v = verifier) => {
    try {
      v.verify(token, { now });
    } catch (error) {
      assert.ok(error instanceof VerifyError, `not a VerifyError: ${error}`);
      assert.ok(error instanceof Error);
      assert.equal(error.name, 'VerifyError');
      assert.equal(typeof error.message, 'string');
      assert.ok(error.message.length > 5);
      return error;
    }
    assert.fail('verified');
  };
  assert.equal(verifier.verify(good, { now: 1500 }).sub, 'alice');
  assert.equal(reject('').code, 'empty');
  assert.equal(reject(' \r\n\t').code, 'empty');
  assert.equal(reject(undefined).code, 'empty');
  assert.equal(reject(null).code, 'empty');
  assert.equal(reject(42).code, 'malformed');
  assert.equal(reject({ token: good }).code, 'malformed');
  assert.match(reject('').message, /empty/);
  for (const bad of ['a.b', 'not a token', `${good}.x`, good.replace(/\.[^.]*$/, '.AAAA'), s.signRaw('{"alg":"ES256"', JSON.stringify(claims)),
    s.sign(claims, { alg: 'ES256', crit: ['x'] }), s.sign(claims, { alg: 'ES256', kid: 7 }), s.sign(claims, { alg: 'ES256', typ: 'JOSE+JSON' }),
    s.sign({ ...claims, iss: undefined }), s.sign({ ...claims, exp: '2000' }), s.signRaw('{"alg":"ES256","alg":"ES256"}', JSON.stringify(claims)),
    s.sign({ ...claims, x: JSON.parse('['.repeat(40) + ']'.repeat(40)) })]) {
    assert.equal(reject(bad).code, 'malformed', bad.slice(0, 60));
  }
  const rs = reject(s.sign(claims, { alg: 'RS256', kid: s.kid }));
  assert.equal(rs.code, 'algorithm');
  assert.match(rs.message, /RS256/);
  assert.match(rs.message, /RSA/);
  assert.equal(reject(s.sign(claims, { alg: 'none' })).code, 'algorithm');
  assert.equal(reject(other.sign(claims)).code, 'unknown_key');
  assert.equal(reject(other.sign(claims, { alg: 'ES256', kid: s.kid })).code, 'bad_signature');
  const expired = reject(good, 2100);
  assert.equal(expired.code, 'expired');
  assert.match(expired.message, /expired at 1970-01-01T00:33:20Z \(2000\)/); // when
  assert.match(expired.message, /now is 1970-01-01T00:35:00Z \(2100\)/); // and what now was
  const far = reject(good, 18446744073709551615n);
  assert.match(far.message, /now is 18446744073709551615,/); // every digit, past what a Date holds
  assert.equal(reject(s.sign({ ...claims, nbf: 1800 })).code, 'not_yet_valid');
  assert.equal(reject(s.sign({ ...claims, iat: 1800 })).code, 'issued_in_future');
  assert.equal(reject(s.sign({ ...claims, aud: 'other.example.com' })).code, 'audience');
  assert.equal(reject(s.sign({ ...claims, iss: 'https://evil.example.com/' })).code, 'issuer');
  const strict = await createVerifier({ keys: s.jwks, audience: 'app.example.com', issuer: 'https://idp.example.com/' });
  assert.equal(reject(good, 1500, strict).code, 'issuer');
  assert.equal(strict.verify(s.sign({ ...claims, iss: 'https://idp.example.com/' }), { now: 1500 }).iss, 'https://idp.example.com/');
  assert.equal(reject(`${'a'.repeat(1 << 20)}.b.c`).code, 'too_large');
  assert.equal(reject(s.sign(claims, { alg: 'ES256', pad: 'x'.repeat(1100) })).code, 'too_large'); // header over 1 KiB
  // leeway
  const noLeeway = await createVerifier({ keys: s.jwks, audience: 'app.example.com', leeway: 0 });
  assert.equal(reject(good, 2000, noLeeway).code, 'expired');
  assert.equal(verifier.verify(good, { now: 2000 }).sub, 'alice'); // default leeway 60 s
  // now defaults to the clock: a token that expired in 1970 is refused without `now`, and one
  // that expires in 2100 verifies.
  assert.throws(() => verifier.verify(good), (e) => e.code === 'expired');
  assert.throws(() => verifier.verify(good, {}), (e) => e.code === 'expired');
  assert.equal(verifier.verify(s.sign({ ...claims, exp: 4102444800 })).sub, 'alice');
});

test('tokens of 64 KiB verify; over 1 MiB they are too_large', async () => {
  const s = signer();
  const verifier = await createVerifier({ keys: s.jwks, audience: 'app.example.com' });
  const base = { iss: 'app.example.com', aud: 'app.example.com', exp: 2000, iat: 1000 };
  const groups = Array.from({ length: 1000 }, (_, i) => `group-${String(i).padStart(4, '0')}-${'x'.repeat(40)}`);
  const big = s.sign({ ...base, groups });
  assert.ok(big.length >= 64 * 1024, `${big.length}`);
  assert.equal(verifier.verify(big, { now: 1500 }).groups.length, 1000);
  const huge = s.sign({ ...base, pad: 'y'.repeat(800 * 1024) });
  assert.ok(huge.length > 1 << 20);
  assert.throws(() => verifier.verify(huge, { now: 1500 }), (e) => e instanceof VerifyError && e.code === 'too_large');
});

test('header names and Bearer are ignored, in any case', async () => {
  const s = signer();
  const verifier = await createVerifier({ keys: s.jwks, audience: 'app.example.com' });
  const token = s.sign({ iss: 'app.example.com', aud: 'app.example.com', exp: 2000, iat: 1000, sub: 'bob' });
  for (const form of [token, ` ${token}\r\n`, `X-Pomerium-Jwt-Assertion: ${token}`, `x-pomerium-jwt-assertion:${token}`,
    `X-POMERIUM-JWT-ASSERTION:\t${token}\n`, `Authorization: Bearer ${token}`, `authorization:bearer ${token}`,
    `AUTHORIZATION:\tBEARER\t${token}\r\n`, `Bearer ${token}`, `bearer  ${token}`, new TextEncoder().encode(`Bearer ${token}`)]) {
    assert.equal(verifier.verify(form, { now: 1500 }).sub, 'bob', String(form).slice(0, 40));
  }
  for (const empty of ['X-Pomerium-Jwt-Assertion:', 'X-Pomerium-Jwt-Assertion:   ', 'Authorization: Bearer ', 'Bearer', '  ']) {
    assert.throws(() => verifier.verify(empty, { now: 1500 }), (e) => e.code === 'empty', JSON.stringify(empty));
  }
  // Only one header name, and `Bearer` only as a word of its own.
  assert.throws(() => verifier.verify(`Bearer${token}`, { now: 1500 }), (e) => e.code === 'malformed');
  assert.throws(() => verifier.verify(`Cookie: ${token}`, { now: 1500 }), (e) => e.code === 'malformed');
});

test('key forms: JWKS text and object, JWK, PEM, DER bytes, base64 PEM, certificates, arrays', async () => {
  const token = typical.token;
  const now = typical.now;
  const text = (name) => readFileSync(path.join(data, name), 'utf8');
  const forms = {
    'JWKS text': text('python/key1.jwks.json'),
    'JWKS object': JSON.parse(text('python/key1.jwks.json')),
    'JWK object': JSON.parse(text('python/key1.jwk.json')),
    'JWK text': text('python/key1.jwk.json'),
    'PEM text': text('python/key1.pub.pem'),
    'PEM with CRLF': text('python/key1.pub.crlf.pem'),
    'base64 PEM': text('python/key1.pub.pem.b64'),
    'DER bytes': new Uint8Array(s1Der()),
    'array': [text('python/key2.jwks.json'), text('python/key1.pub.pem')],
  };
  for (const [name, keys] of Object.entries(forms)) {
    const verifier = await createVerifier({ keys, audience: typical.audience });
    assert.equal(verifier.verify(token, { now }).sub, 'alice-id-0001', name);
  }
  const cert = await createVerifier({ keys: text('python/cert-plus-pubkey.pem'), audience: 'app.example.com' });
  assert.ok(cert instanceof Object);
});

function s1Der() {
  // key1's SubjectPublicKeyInfo, from its PEM (the same key as key1.jwks.json).
  const pem = readFileSync(path.join(data, 'python/key1.pub.pem'), 'utf8');
  return Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s/g, ''), 'base64');
}

test('key errors: KeyError with code "key" and a message that names what is wrong', async () => {
  const text = (name) => readFileSync(path.join(data, name), 'utf8');
  const bad = {
    'no keys': undefined,
    'empty array': [],
    'private PEM': text('python/key1.private.pem'),
    'JWK with d': text('python/key1-with-d.jwk.json'),
    'RSA private key': text('openssl/rsa_signing_key.pem'),
    'garbage': text('python/garbage.txt'),
    'no usable key': text('python/jwks-unsupported-only.json'),
    'empty JWKS': text('python/jwks-keys-empty.json'),
    'off the curve': text('python/jwk-offcurve.json'),
    'truncated JWKS': text('python/jwks-truncated.json'),
    'one bad in an array': [text('python/key1.jwks.json'), text('python/garbage.txt')],
    'a number': 42,
    'empty text': '',
  };
  for (const [name, keys] of Object.entries(bad)) {
    await assert.rejects(createVerifier({ keys, audience: 'app.example.com' }), (e) => {
      assert.ok(e instanceof KeyError, `${name}: ${e}`);
      assert.equal(e.code, 'key', name);
      assert.ok(e.message.length > 5, name);
      return true;
    }, name);
  }
  await assert.rejects(createVerifier({ keys: text('python/key1.private.pem'), audience: 'a' }), /private/);
  await assert.rejects(createVerifier({ keys: text('openssl/rsa_signing_key.pem'), audience: 'a' }), /RSA/);
});

test('a missing or empty audience is a TypeError', async () => {
  const keys = typicalKeys();
  await assert.rejects(createVerifier({ keys }), TypeError);
  await assert.rejects(createVerifier({ keys, audience: '' }), TypeError);
  await assert.rejects(createVerifier({ keys, audience: 5 }), TypeError);
});

test('setKeys and addKeys: synchronous, and a failure keeps the keys in use', async () => {
  const a = signer();
  const b = signer();
  const claims = { iss: 'app.example.com', aud: 'app.example.com', exp: 2000, iat: 1000, sub: 'x' };
  const verifier = await createVerifier({ keys: a.jwks, audience: 'app.example.com' });
  const ok = (token) => verifier.verify(token, { now: 1500 }).sub === 'x';
  const code = (token) => { try { verifier.verify(token, { now: 1500 }); return 'ok'; } catch (e) { return e.code; } };
  assert.ok(ok(a.sign(claims)));
  assert.equal(code(b.sign(claims)), 'unknown_key');
  assert.throws(() => verifier.setKeys('garbage'), KeyError);
  assert.throws(() => verifier.setKeys([b.jwks, 'garbage']), KeyError);
  assert.throws(() => verifier.setKeys([]), KeyError);
  assert.ok(ok(a.sign(claims)), 'the old keys stay after a failed setKeys');
  assert.equal(code(b.sign(claims)), 'unknown_key', 'nothing of a failed setKeys is kept');
  assert.throws(() => verifier.addKeys([b.jwks, a.privatePem]), KeyError);
  assert.equal(code(b.sign(claims)), 'unknown_key', 'nothing of a failed addKeys is kept');
  assert.equal(verifier.addKeys(b.jwks), undefined);
  assert.ok(ok(a.sign(claims)) && ok(b.sign(claims)), 'addKeys adds');
  verifier.setKeys(b.publicPem);
  assert.ok(ok(b.sign(claims)));
  assert.equal(code(a.sign(claims)), 'bad_signature', 'setKeys replaces (a PEM key has no kid, so it is tried)');
});
