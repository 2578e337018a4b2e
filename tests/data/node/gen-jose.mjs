// Makes the tokens signed by a third, independent ES256 implementation: panva's `jose` for
// Node.js (node/package.json pins it; run `npm ci` in node/ first).
//
// Writes, beside this file:
//   jose-key.private.jwk.json  the signing key, made once by jose's generateKeyPair and reused
//   jose-key.pub.jwk.json      its public JWK, with kid = Pomerium's kid (lowercase hex of the
//                              RFC 7638 SHA-256 thumbprint, computed here by jose)
//   jose-tokens.json           [{name, token}], read by ../gen.py into ../tokens.json
//
// ECDSA signing is randomised, so a token whose header.payload is unchanged keeps its old
// signature (no churn on re-run). Every token is verified with jose before it is written.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  SignJWT, generateKeyPair, exportJWK, importJWK, calculateJwkThumbprint, jwtVerify,
} from 'jose';

const here = dirname(fileURLToPath(import.meta.url));
const privPath = join(here, 'jose-key.private.jwk.json');
const pubPath = join(here, 'jose-key.pub.jwk.json');
const outPath = join(here, 'jose-tokens.json');

if (!existsSync(privPath)) {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  writeFileSync(privPath, JSON.stringify(await exportJWK(privateKey)) + '\n');
}
const privJwk = JSON.parse(readFileSync(privPath, 'utf8'));
const { d, ...pubBare } = privJwk;
const thumb = await calculateJwkThumbprint(pubBare, 'sha256'); // base64url
const kid = Buffer.from(thumb, 'base64url').toString('hex');
const pubJwk = { use: 'sig', kty: 'EC', kid, crv: 'P-256', alg: 'ES256', x: pubBare.x, y: pubBare.y };
writeFileSync(pubPath, JSON.stringify(pubJwk) + '\n');
const privateKey = await importJWK(privJwk, 'ES256');
const publicKey = await importJWK(pubBare, 'ES256');

const old = existsSync(outPath)
  ? Object.fromEntries(JSON.parse(readFileSync(outPath, 'utf8')).map((c) => [c.name, c.token]))
  : {};
const prefix = (t) => t.split('.').slice(0, 2).join('.');

const cases = [
  {
    name: 'jose_typical',
    make: () => new SignJWT({
      email: 'carol@example.com', groups: ['admins', 'devs'], name: 'Carol', sid: 'jose-sid-0001',
      user: 'carol-id-0003',
    })
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
      .setAudience('app.example.com').setIssuer('app.example.com').setSubject('carol-id-0003')
      .setJti('jose-jti-0001').setIssuedAt(1700000000).setExpirationTime(1700000300),
    verify: { audience: 'app.example.com', issuer: 'app.example.com' },
  },
  {
    name: 'jose_aud_array_nbf_no_typ',
    make: () => new SignJWT({ email: 'carol@example.com', groups: null, name: 'Zoë 😀 日本' })
      .setProtectedHeader({ alg: 'ES256', kid })
      .setAudience(['other.example.com', 'app.example.com']).setIssuer('https://app.example.com/')
      .setSubject('carol-id-0003').setIssuedAt(1700000000).setNotBefore(1700000000)
      .setExpirationTime(1700000300),
    verify: { audience: 'app.example.com', issuer: 'https://app.example.com/' },
  },
  {
    name: 'jose_no_kid',
    make: () => new SignJWT({ email: 'carol@example.com' })
      .setProtectedHeader({ alg: 'ES256' })
      .setAudience('app.example.com').setIssuer('pomerium-proxy').setSubject('carol-id-0003')
      .setIssuedAt(1700000000).setExpirationTime(1700000300),
    verify: { audience: 'app.example.com', issuer: 'pomerium-proxy' },
  },
];

const out = [];
for (const c of cases) {
  let token = await c.make().sign(privateKey);
  if (old[c.name] && prefix(old[c.name]) === prefix(token)) token = old[c.name];
  await jwtVerify(token, publicKey, {
    ...c.verify, algorithms: ['ES256'], currentDate: new Date(1700000100 * 1000),
  });
  out.push({ name: c.name, token });
}
writeFileSync(outPath, JSON.stringify(out, null, 1) + '\n');
console.log(`gen-jose.mjs: ${out.length} tokens, kid ${kid}`);
