// createRemoteVerifier against a JWKS server on 127.0.0.1 that this test starts with node's
// http: the first fetch, rotation, unknown-kid floods (fetches counted), failures that never
// replace the keys (500, hang, garbage, over 1 MiB, no usable key), and close() letting node exit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRemoteVerifier, VerifyError, KeyError } from 'pomerium-jwt';
import { signer } from './helpers.mjs';

const claims = { iss: 'app.example.com', aud: 'app.example.com', exp: 2000, iat: 1000, sub: 'carol' };
const now = 1500;

/** A JWKS server: `mode` says what it answers, `fetches` counts requests. */
async function jwksServer() {
  const state = { mode: 'ok', jwks: '{"keys":[]}', fetches: 0, hung: [] };
  const server = http.createServer((req, res) => {
    state.fetches += 1;
    switch (state.mode) {
      case 'ok':
        res.writeHead(200, { 'content-type': 'application/json' }).end(state.jwks);
        break;
      case '500':
        res.writeHead(500).end('internal error');
        break;
      case 'hang':
        state.hung.push(res); // never answers
        break;
      case 'garbage':
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys": [ this is not json');
        break;
      case 'huge': {
        // Over 1 MiB, without a content-length: the client must stop reading by itself.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write(state.jwks.slice(0, -1));
        res.end(`,"pad":"${'x'.repeat((1 << 20) + 10)}"}`);
        break;
      }
      case 'redirect':
        res.writeHead(302, { location: '/elsewhere' }).end();
        break;
      case 'nokeys':
        res.writeHead(200).end('{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}');
        break;
      default:
        res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}/.well-known/pomerium/jwks.json`;
  const close = () => {
    for (const res of state.hung) res.destroy();
    server.closeAllConnections?.();
    return new Promise((resolve) => server.close(resolve));
  };
  return { state, url, close };
}

const jwksOf = (...signers) => JSON.stringify({ keys: signers.flatMap((s) => JSON.parse(s.jwks).keys) });

async function codeOf(promise) {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    assert.ok(error instanceof VerifyError, String(error));
    return error.code;
  }
}

test('the first fetch happens in createRemoteVerifier, which rejects when it fails in any way', async () => {
  const a = signer();
  const server = await jwksServer();
  try {
    for (const mode of ['500', 'hang', 'garbage', 'huge', 'nokeys', 'redirect']) {
      server.state.mode = mode;
      server.state.jwks = jwksOf(a);
      const before = server.state.fetches;
      await assert.rejects(
        createRemoteVerifier({ jwksUrl: server.url, audience: 'app.example.com', timeout: 300 }),
        (error) => {
          assert.ok(error instanceof Error);
          assert.ok(error.message.length > 10, mode);
          if (mode === 'nokeys' || mode === 'garbage') assert.ok(error instanceof KeyError, `${mode}: ${error}`);
          if (mode === '500') assert.match(error.message, /500/);
          if (mode === 'hang') assert.match(error.message, /timed out/);
          if (mode === 'huge') assert.match(error.message, /larger/);
          return true;
        },
        mode,
      );
      assert.equal(server.state.fetches, before + 1, mode);
    }
    server.state.mode = 'ok';
    const verifier = await createRemoteVerifier({ jwksUrl: server.url, audience: 'app.example.com' });
    assert.equal((await verifier.verify(a.sign(claims), { now })).sub, 'carol');
    verifier.close();
  } finally {
    await server.close();
  }
  // Nothing listens any more: a network error.
  await assert.rejects(createRemoteVerifier({ jwksUrl: server.url, audience: 'app.example.com', timeout: 2000 }), /fetching keys/);
  await assert.rejects(createRemoteVerifier({ jwksUrl: server.url }), TypeError);
  await assert.rejects(createRemoteVerifier({ jwksUrl: server.url, audience: 'a', maxAge: -1 }), TypeError);
  await assert.rejects(createRemoteVerifier({ jwksUrl: 'file:///etc/passwd', audience: 'a' }), TypeError);
});

test('rotation: a new kid fetches again (once per cooldown); maxAge refetches; failures keep the keys', async () => {
  const a = signer();
  const b = signer();
  const c = signer();
  const server = await jwksServer();
  server.state.jwks = jwksOf(a);
  const verifier = await createRemoteVerifier({
    jwksUrl: server.url, audience: 'app.example.com', cooldown: 800, maxAge: 60_000, timeout: 300,
  });
  try {
    assert.equal(server.state.fetches, 1);
    assert.equal(await codeOf(verifier.verify(a.sign(claims), { now })), 'ok');
    // Pomerium rotates: the JWKS lists the old and the new key.
    server.state.jwks = jwksOf(a, b);
    // Within the cooldown of the start-up fetch: no fetch, the token is refused as unknown.
    assert.equal(await codeOf(verifier.verify(b.sign(claims), { now })), 'unknown_key');
    assert.equal(server.state.fetches, 1);
    await sleep(900);
    assert.equal(await codeOf(verifier.verify(b.sign(claims), { now })), 'ok');
    assert.equal(server.state.fetches, 2);
    assert.equal(await codeOf(verifier.verify(a.sign(claims), { now })), 'ok');

    // A flood of unknown kids: one fetch per cooldown, shared by every waiter.
    await sleep(900);
    const flood = await Promise.all(Array.from({ length: 200 }, () => codeOf(verifier.verify(c.sign(claims), { now }))));
    assert.deepStrictEqual(new Set(flood), new Set(['unknown_key']));
    assert.equal(server.state.fetches, 3, 'one fetch for 200 tokens with an unknown kid');
    for (let i = 0; i < 50; i += 1) await codeOf(verifier.verify(c.sign(claims), { now }));
    assert.equal(server.state.fetches, 3, 'none within the cooldown');
    // Waiters share the fetch that brings their key.
    await sleep(900);
    server.state.jwks = jwksOf(b, c);
    const shared = await Promise.all(Array.from({ length: 50 }, () => codeOf(verifier.verify(c.sign(claims), { now }))));
    assert.deepStrictEqual(new Set(shared), new Set(['ok']));
    assert.equal(server.state.fetches, 4);

    // Failing fetches never replace the keys in use. (A failed fetch is also retried in the
    // background after the cooldown, so a mode can see two fetches: never more.)
    for (const mode of ['500', 'hang', 'garbage', 'huge', 'nokeys']) {
      server.state.mode = mode;
      const before = server.state.fetches;
      await sleep(900);
      assert.equal(await codeOf(verifier.verify(a.sign(claims), { now })), 'unknown_key', mode); // a is gone since the last good fetch
      const fetched = server.state.fetches - before;
      assert.ok(fetched >= 1 && fetched <= 2, `${mode}: ${fetched} fetches`);
      assert.equal(await codeOf(verifier.verify(b.sign(claims), { now })), 'ok', mode);
      assert.equal(await codeOf(verifier.verify(c.sign(claims), { now })), 'ok', mode);
    }
  } finally {
    verifier.close();
    await server.close();
  }
});

test('keys are fetched again maxAge after the last good fetch; a failed refresh is retried after the cooldown', async () => {
  const a = signer();
  const b = signer();
  const server = await jwksServer();
  server.state.jwks = jwksOf(a);
  const verifier = await createRemoteVerifier({
    jwksUrl: server.url, audience: 'app.example.com', maxAge: 300, cooldown: 60_000, timeout: 200,
  });
  try {
    server.state.jwks = jwksOf(b);
    await sleep(500);
    assert.equal(server.state.fetches, 2);
    assert.equal(await codeOf(verifier.verify(b.sign(claims), { now })), 'ok');
    assert.equal(await codeOf(verifier.verify(a.sign(claims), { now })), 'unknown_key');
    server.state.mode = '500';
    await sleep(400);
    assert.equal(server.state.fetches, 3);
    assert.equal(await codeOf(verifier.verify(b.sign(claims), { now })), 'ok', 'a failed refresh keeps the keys');
  } finally {
    verifier.close();
    await server.close();
  }
  const fetches = server.state.fetches;
  await sleep(400);
  assert.equal(server.state.fetches, fetches, 'no fetch after close()');
});

test('delays beyond setTimeout\'s range (Infinity included) neither fire at once nor time out at once', async () => {
  const a = signer();
  const server = await jwksServer();
  server.state.jwks = jwksOf(a);
  const verifier = await createRemoteVerifier({
    jwksUrl: server.url, audience: 'app.example.com', maxAge: 2 ** 40, cooldown: Infinity, timeout: Infinity,
  });
  try {
    await sleep(300);
    assert.equal(server.state.fetches, 1);
    assert.equal(await codeOf(verifier.verify(a.sign(claims), { now })), 'ok');
  } finally {
    verifier.close();
    await server.close();
  }
});

test('close() lets node exit', { timeout: 30_000 }, async () => {
  const a = signer();
  const server = await jwksServer();
  server.state.jwks = jwksOf(a);
  const child = (close) => new Promise((resolve) => {
    const script = `
      import { createRemoteVerifier } from 'pomerium-jwt';
      const v = await createRemoteVerifier({ jwksUrl: ${JSON.stringify(server.url)}, audience: 'app.example.com', maxAge: 100, cooldown: 100 });
      await new Promise((r) => setTimeout(r, 300));
      ${close ? 'v.close();' : ''}
      console.log('created');`;
    const proc = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.on('data', (chunk) => { out += chunk; });
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out });
    });
  });
  try {
    const closed = await child(true);
    assert.equal(closed.out.trim(), 'created');
    assert.deepStrictEqual([closed.code, closed.signal], [0, null], 'node exits after close()');
    // Without close() the background refresh keeps node running: the check above can fail.
    const open = await child(false);
    assert.equal(open.out.trim(), 'created');
    assert.equal(open.signal, 'SIGKILL', 'without close() the refresh keeps node alive');
  } finally {
    await server.close();
  }
});
