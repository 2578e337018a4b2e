// The installed package in a real browser: headless Chromium (Debian's /usr/bin/chromium, or
// CHROMIUM) driven by puppeteer-core loads a test page and the package from a static server on
// 127.0.0.1 that this test starts, and verifies every fixture of tests/data/tokens.json there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import puppeteer from 'puppeteer-core';
import { cases, data, expectedCode } from './helpers.mjs';

// The package as installed from the tarball (its package.json is exported).
const pkg = path.dirname(createRequire(import.meta.url).resolve('pomerium-jwt/package.json'));

const PAGE = `<!doctype html><meta charset="utf-8"><title>pomerium-jwt</title>
<script type="module">
import { createVerifier, VerifyError } from '/pkg/index.js';
try {
  // now and leeway go up to 2^64 - 1, beyond a double: kept as strings for BigInt.
  const cases = JSON.parse((await (await fetch('/data/tokens.json')).text())
    .replace(/("(?:now|leeway)":\\s*)(\\d{16,})/g, '$1"$2"'));
  const results = [];
  const verifiers = new Map();
  for (const c of cases) {
    const config = JSON.stringify([c.keys, c.audience, c.issuer, c.leeway]);
    if (!verifiers.has(config)) {
      const keys = await Promise.all(c.keys.map(async (k) => new Uint8Array(await (await fetch('/data/' + k)).arrayBuffer())));
      verifiers.set(config, await createVerifier({ keys, audience: c.audience, issuer: c.issuer ?? undefined,
        leeway: c.leeway == null ? undefined : BigInt(c.leeway) }));
    }
    try {
      const claims = verifiers.get(config).verify(c.token, { now: BigInt(c.now) });
      // -0 and Infinity (1e400) do not survive JSON: marked, and restored in node.
      const mark = (k, v) => typeof v === 'number' && (Object.is(v, -0) || !Number.isFinite(v)) ? { number: Object.is(v, -0) ? '-0' : String(v) } : v;
      results.push({ name: c.name, code: 'ok', claims: JSON.stringify(claims, mark) });
    } catch (e) {
      results.push({ name: c.name, code: e instanceof VerifyError ? e.code : 'threw ' + e });
    }
  }
  window.__results = results;
} catch (e) {
  window.__results = 'page failed: ' + e + ' ' + e.stack;
}
</script>`;

const TYPES = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json', '.html': 'text/html' };

async function staticServer() {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    let file;
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
      return;
    } else if (url.pathname.startsWith('/pkg/')) {
      file = path.join(pkg, path.normalize(url.pathname.slice(5)));
    } else if (url.pathname.startsWith('/data/')) {
      file = path.join(data, path.normalize(url.pathname.slice(6)));
    }
    try {
      const body = readFileSync(file);
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${server.address().port}` };
}

test('every fixture gives the library verdict and claims in headless Chromium', { timeout: 180_000 }, async () => {
  const { server, origin } = await staticServer();
  const profile = mkdtempSync(path.join(tmpdir(), 'pomerium-jwt-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', `--user-data-dir=${profile}`],
  });
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => window.__results !== undefined, { timeout: 150_000 });
    const results = await page.evaluate(() => window.__results);
    assert.deepStrictEqual(errors, []);
    assert.ok(Array.isArray(results), String(results));
    assert.equal(results.length, cases.length);
    const failures = [];
    for (const [i, c] of cases.entries()) {
      const got = results[i];
      const want = expectedCode(c);
      if (got.name !== c.name || got.code !== want) {
        failures.push(`${c.name}: ${got.code}, want ${want}`);
      } else if (want === 'ok') {
        const payload = JSON.parse(Buffer.from(c.token.trim().split('.')[1], 'base64url').toString('utf8'));
        const others = Object.fromEntries(Object.entries(payload).filter(([name]) => !(name in c.claims)));
        try {
          const claims = JSON.parse(got.claims, (k, v) => (typeof v?.number === 'string' ? Number(v.number) : v));
          assert.deepStrictEqual(claims, { ...c.claims, ...others });
        } catch {
          failures.push(`${c.name}: claims ${got.claims}`);
        }
      }
    }
    assert.deepStrictEqual(failures, []);
    const userAgent = await browser.version();
    assert.match(userAgent, /Chrom/);
  } finally {
    await browser.close();
    server.close();
    rmSync(profile, { recursive: true, force: true });
  }
});
