// Shared by the tests: the repository's fixtures, and tokens signed here by node's crypto (an
// independent ES256 signer), so that each check can be made to fail.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';

export const data = process.env.POMERIUM_JWT_DATA;
if (!data) throw new Error('POMERIUM_JWT_DATA must name the repository\'s tests/data');

// `now` and `leeway` go up to u64::MAX, beyond a double's 2^53: kept as strings for BigInt.
export const cases = JSON.parse(readFileSync(path.join(data, 'tokens.json'), 'utf8')
  .replace(/("(?:now|leeway)":\s*)(\d{16,})/g, '$1"$2"'));

export const keyFile = (name) => new Uint8Array(readFileSync(path.join(data, name)));

/** The fixtures' verdicts (tests/fixtures.rs names) as the package's codes. */
const CODE = {
  ok: 'ok', malformed: 'malformed', invalid_claim: 'malformed', missing_claim: 'malformed', crit: 'malformed',
  bad_header: 'malformed', unsupported_alg: 'algorithm', unknown_key: 'unknown_key', bad_signature: 'bad_signature',
  expired: 'expired', not_yet_valid: 'not_yet_valid', issued_in_future: 'issued_in_future',
  wrong_audience: 'audience', wrong_issuer: 'issuer', too_large: 'too_large',
};

/** The code a case must give: the library's verdict, except that a token that is only white
 * space is `empty` in JavaScript (the library, given no bytes, says the form is wrong). */
export function expectedCode(c) {
  if (c.token.trim() === '') return 'empty';
  const code = CODE[c.expect];
  if (!code) throw new Error(`fixture verdict ${c.expect} has no code here`);
  return code;
}

/** `{ code: 'ok', claims }` or `{ code, message }` of a VerifyError. */
export function verdict(run) {
  try {
    return { code: 'ok', claims: run() };
  } catch (error) {
    if (error?.name !== 'VerifyError') throw error;
    return { code: error.code, message: error.message };
  }
}

const b64url = (bytes) => Buffer.from(bytes).toString('base64url');

/** A fresh P-256 key pair that signs tokens, with its public key as a JWKS (kid: RFC 7638 thumbprint). */
export function signer() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const kid = createHash('sha256').update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })).digest('hex');
  const jwks = JSON.stringify({ keys: [{ ...jwk, kid, alg: 'ES256', use: 'sig' }] });
  const signRaw = (header, payload) => {
    const input = `${b64url(header)}.${b64url(payload)}`;
    const signature = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
    return `${input}.${b64url(signature)}`;
  };
  return {
    kid,
    jwks,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }),
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }),
    publicKey,
    privateKey,
    signRaw,
    sign: (claims, header = { alg: 'ES256', kid, typ: 'JWT' }) => signRaw(JSON.stringify(header), JSON.stringify(claims)),
  };
}
