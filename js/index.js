// pomerium-jwt: verifies Pomerium's X-Pomerium-Jwt-Assertion (ES256) in any JavaScript runtime
// with WebAssembly. This file only moves bytes: reading the token, parsing keys and every rule
// of verification happen in the WebAssembly module (wasm/src/lib.rs), built from the Rust crate.

const WASM_URL = new URL('./pomerium_jwt.wasm', import.meta.url);
/** The largest remote key document accepted, in bytes. */
const MAX_JWKS = 1 << 20;

/** The codes a rejected token can have: `VerifyError.code`. */
const VERIFY_CODES = new Set([
  'empty', 'malformed', 'algorithm', 'unknown_key', 'bad_signature', 'expired', 'not_yet_valid',
  'issued_in_future', 'audience', 'issuer', 'too_large',
]);

/** A token that did not verify; `code` says which check failed, `message` says it in words. */
export class VerifyError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'VerifyError';
    this.code = code;
  }
}

/** A key file (or set of them) that yields no usable P-256 public key; `code` is `"key"`. */
export class KeyError extends Error {
  constructor(message) {
    super(message);
    this.name = 'KeyError';
    this.code = 'key';
  }
}

let compiled;
/** The compiled module, once per realm; each verifier has an instance of its own. */
function compileModule() {
  compiled ??= loadModule().catch((error) => {
    compiled = undefined;
    throw error;
  });
  return compiled;
}

async function loadModule() {
  if (WASM_URL.protocol === 'file:' && globalThis.process?.versions?.node) {
    // node's fetch does not read file: URLs.
    const { readFile } = await import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:fs/promises');
    return WebAssembly.compile(await readFile(WASM_URL));
  }
  const response = await fetch(WASM_URL);
  if (!response.ok) throw new Error(`pomerium-jwt: cannot load ${WASM_URL}: HTTP ${response.status}`);
  return WebAssembly.compile(await response.arrayBuffer());
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One instance of the module: copy bytes in, call, read the JSON document out. */
class Module {
  constructor(instance) {
    this.x = instance.exports;
    this.inputPtr = this.x.input_ptr();
    this.capacity = this.x.input_capacity();
  }

  /** A view of the input area (re-made each call: a grown memory detaches the old buffer). */
  input() {
    return new Uint8Array(this.x.memory.buffer, this.inputPtr, this.capacity);
  }

  /** Copies a string or bytes into the input area; returns its length, or -1 when it does not fit. */
  put(value) {
    if (typeof value === 'string') {
      if (value.length > this.capacity) return -1;
      const { read, written } = encoder.encodeInto(value, this.input());
      return read === value.length ? written : -1;
    }
    if (value.length > this.capacity) return -1;
    this.input().set(value);
    return value.length;
  }

  text() {
    return decoder.decode(new Uint8Array(this.x.memory.buffer, this.x.output_ptr(), this.x.output_len()));
  }

  /** The result document of the last call. */
  result() {
    return JSON.parse(this.text());
  }
}

/** The bytes of one key file: text, bytes, or a JWK / JWKS object. */
function keyFileBytes(file, which) {
  if (typeof file === 'string') return encoder.encode(file);
  if (file instanceof Uint8Array) return file;
  if (file instanceof ArrayBuffer) return new Uint8Array(file);
  if (ArrayBuffer.isView(file)) return new Uint8Array(file.buffer, file.byteOffset, file.byteLength);
  if (file !== null && typeof file === 'object') return encoder.encode(JSON.stringify(file));
  throw new KeyError(`${which} is ${file === null ? 'null' : typeof file}: expected a key file's contents (JWKS, JWK, PEM, DER or base64 PEM)`);
}

function keyFiles(keys) {
  if (keys === undefined || keys === null) throw new KeyError('no keys given: pass `keys`, a key file\'s contents or an array of them');
  const files = Array.isArray(keys) ? keys : [keys];
  if (files.length === 0) throw new KeyError('`keys` is an empty array: pass at least one key file');
  return files;
}

function unixSeconds(value, name) {
  if (typeof value === 'bigint') {
    if (value < 0n || value >= 1n << 64n) throw new TypeError(`${name} is out of range: ${value}`);
    return value;
  }
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`${name} must be a non-negative number of seconds, not ${String(value)}`);
  }
  return BigInt(Math.floor(value));
}

function checkName(value, name, required) {
  if (value === undefined || value === null) {
    if (required) throw new TypeError(`${name} is required: the route's host, as Pomerium writes it in aud`);
    return undefined;
  }
  if (typeof value !== 'string' || value === '') throw new TypeError(`${name} must be a non-empty string`);
  return value;
}

/** Unix seconds (a decimal string) as a UTC date, with the number itself (alone past year 275760). */
function when(secs) {
  const date = new Date(Number(secs) * 1000);
  return Number.isNaN(date.getTime()) ? String(secs) : `${date.toISOString().replace('.000Z', 'Z')} (${secs})`;
}

/** The words for a failed time check: when, and what `now` was. */
function timeMessage(code, at, now, leeway) {
  const what = { expired: 'token expired at', not_yet_valid: 'token not valid before', issued_in_future: 'token issued in the future at' }[code];
  return `${what} ${when(at)}; now is ${when(now)}, leeway ${leeway}s${code === 'issued_in_future' ? ': check the clocks' : ''}`;
}

/** Verifies tokens against keys given in memory. Made by `createVerifier`. */
export class Verifier {
  #m;

  /** @internal */
  constructor(module) {
    this.#m = module;
  }

  /** Verifies `token` at `options.now` (Unix seconds; default the clock) and returns its claims. */
  verify(token, options) {
    const m = this.#m;
    let len;
    if (token === undefined || token === null) {
      len = 0; // a missing header reads as the empty header Pomerium sends when it cannot sign
    } else if (typeof token === 'string' || token instanceof Uint8Array) {
      len = m.put(token);
      if (len < 0) throw new VerifyError('too_large', `token is ${token.length}+ bytes, larger than the 1 MiB limit`);
    } else {
      // Still a rejected token (JS.md: nothing but VerifyError for a bad token).
      throw new VerifyError('malformed', `the token is a ${typeof token}, not a string`);
    }
    const now = options?.now;
    const secs = now === undefined || now === null ? BigInt(Math.floor(Date.now() / 1000)) : unixSeconds(now, 'now');
    const status = m.x.verify(len, secs);
    if (status === 0) return m.result();
    const { error, message, at, now: was, leeway } = m.result();
    if (at !== undefined) throw new VerifyError(error, timeMessage(error, at, was, leeway));
    if (VERIFY_CODES.has(error)) throw new VerifyError(error, message);
    // `unmapped` (a library error kind without a code: a test fails before such a build ships).
    throw new VerifyError('malformed', `${message} (${error})`);
  }

  /** Replaces the keys; on failure (a `KeyError`) the previous keys stay. */
  setKeys(keys) {
    this.#load(keys, true);
  }

  /** Adds keys to those in use; on failure (a `KeyError`) the keys stay as they were. */
  addKeys(keys) {
    this.#load(keys, false);
  }

  #load(keys, replace) {
    const files = keyFiles(keys);
    const m = this.#m;
    m.x.keys_begin(replace ? 1 : 0);
    files.forEach((file, i) => {
      const which = files.length > 1 || Array.isArray(keys) ? `key file ${i + 1} of ${files.length}` : 'the key file';
      const len = m.put(keyFileBytes(file, which));
      if (len < 0) throw new KeyError(`${which} is larger than ${m.capacity} bytes`);
      if (len === 0) throw new KeyError(`${which} is empty`);
      if (m.x.keys_add(len) !== 0) throw new KeyError(`${which}: ${m.result().message}`);
    });
    if (m.x.keys_commit() !== 0) throw new KeyError(m.result().message);
  }
}

/** A module instance configured with everything but keys. */
async function configured(options, what) {
  if (options === null || typeof options !== 'object') throw new TypeError(`${what} takes an options object`);
  const audience = checkName(options.audience, 'audience', true);
  const issuer = checkName(options.issuer, 'issuer', false);
  const leeway = options.leeway === undefined || options.leeway === null ? undefined : unixSeconds(options.leeway, 'leeway');
  const m = new Module(await WebAssembly.instantiate(await compileModule(), {}));
  const name = (value, label, set) => {
    const len = m.put(value);
    if (len < 0 || set(len) !== 0) throw new TypeError(`${label} is refused: ${len < 0 ? 'too long' : m.result().message}`);
  };
  name(audience, 'audience', m.x.set_audience);
  if (issuer !== undefined) name(issuer, 'issuer', m.x.set_issuer);
  if (leeway !== undefined) m.x.set_leeway(leeway);
  return m;
}

/** A verifier for `options.audience` with the keys `options.keys`. */
export async function createVerifier(options) {
  const m = await configured(options, 'createVerifier');
  const verifier = new Verifier(m);
  verifier.setKeys(options.keys);
  return verifier;
}

/** Verifies tokens against a JWKS fetched from `jwksUrl` and kept fresh. Made by `createRemoteVerifier`. */
export class RemoteVerifier {
  #verifier;
  #url;
  #maxAge;
  #cooldown;
  #timeout;
  #timer;
  #inflight = null;
  #controller = null;
  #lastAttempt = -Infinity;
  #closed = false;

  /** @internal */
  constructor(verifier, url, maxAge, cooldown, timeout) {
    this.#verifier = verifier;
    this.#url = url;
    this.#maxAge = maxAge;
    this.#cooldown = cooldown;
    this.#timeout = timeout;
  }

  /** Verifies `token`; an unknown `kid` may fetch the keys again first (at most once per cooldown). */
  async verify(token, options) {
    try {
      return this.#verifier.verify(token, options);
    } catch (error) {
      if (!(error instanceof VerifyError) || error.code !== 'unknown_key' || this.#closed) throw error;
      if (this.#inflight === null && Date.now() - this.#lastAttempt < this.#cooldown) throw error;
      try {
        await this.refresh();
      } catch {
        throw error; // the fetch failed: the keys in use stay, and the token's verdict stands
      }
      return this.#verifier.verify(token, options);
    }
  }

  /** @internal Fetches the keys now, or joins the fetch under way; rejects when it fails. */
  refresh() {
    if (this.#inflight) return this.#inflight;
    this.#lastAttempt = Date.now();
    this.#inflight = this.#fetchKeys().then((body) => {
      try {
        this.#verifier.setKeys(body);
      } catch (error) {
        throw new KeyError(`pomerium-jwt: the keys from ${this.#url}: ${error.message}`);
      }
      this.#schedule(this.#maxAge);
    }).catch((error) => {
      // Try again after a cooldown rather than a whole maxAge: the keys in use may be old.
      this.#schedule(Math.min(this.#cooldown, this.#maxAge));
      throw error;
    }).finally(() => {
      // As the tower crate's RemoteJwks: the cooldown counts from the end of the last fetch, so a
      // slow server is not asked again at once.
      this.#lastAttempt = Date.now();
      this.#inflight = null;
    });
    return this.#inflight;
  }

  #schedule(ms) {
    clearTimeout(this.#timer);
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      this.refresh().catch(() => {}); // the keys in use stay; the next attempt is scheduled
    }, ms);
  }

  async #fetchKeys() {
    const url = this.#url;
    const controller = new AbortController();
    this.#controller = controller;
    let why = null;
    const timer = setTimeout(() => {
      why = `timed out after ${this.#timeout} ms`;
      controller.abort();
    }, this.#timeout);
    try {
      const response = await fetch(url, {
        signal: controller.signal,
        headers: { accept: 'application/json' },
        redirect: 'manual', // as the tower crate: configure the final URL
      });
      if (response.status !== 200) {
        why = response.type === 'opaqueredirect' || (response.status >= 300 && response.status < 400)
          ? `a redirect (HTTP ${response.status}), which is not followed: configure the final URL`
          : `HTTP status ${response.status}, expected 200`;
        throw new Error(why);
      }
      const declared = Number(response.headers.get('content-length'));
      if (declared > MAX_JWKS) {
        why = `body of ${declared} bytes, larger than ${MAX_JWKS}`;
        throw new Error(why);
      }
      const chunks = [];
      let total = 0;
      if (response.body) {
        const reader = response.body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          total += value.length;
          if (total > MAX_JWKS) {
            why = `body larger than ${MAX_JWKS} bytes`;
            throw new Error(why);
          }
          chunks.push(value);
        }
      }
      const body = new Uint8Array(total);
      let at = 0;
      for (const chunk of chunks) {
        body.set(chunk, at);
        at += chunk.length;
      }
      return body;
    } catch (error) {
      if (this.#closed) why ??= 'the verifier was closed';
      throw new Error(`pomerium-jwt: fetching keys from ${url}: ${why ?? error.message}`, { cause: error });
    } finally {
      clearTimeout(timer);
      if (!controller.signal.aborted) controller.abort(); // releases a body not read to its end
      if (this.#controller === controller) this.#controller = null;
    }
  }

  /** Stops the background refresh (so node can exit). Verification goes on with the keys in use. */
  close() {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#controller?.abort();
  }
}

/** The longest delay setTimeout takes (about 24.8 days): a longer one would fire at once. */
const LONGEST_DELAY = 2 ** 31 - 1;

function milliseconds(value, name, fallback) {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value <= 0) {
    throw new TypeError(`${name} must be a positive number of milliseconds`);
  }
  return Math.min(value, LONGEST_DELAY);
}

/** A verifier whose keys come from `options.jwksUrl`: fetched before it resolves, and kept fresh. */
export async function createRemoteVerifier(options) {
  if (options === null || typeof options !== 'object') throw new TypeError('createRemoteVerifier takes an options object');
  const url = options.jwksUrl instanceof URL ? options.jwksUrl.href : options.jwksUrl;
  if (typeof url !== 'string' || !/^https?:\/\//i.test(url)) throw new TypeError('jwksUrl must be an http(s) URL');
  const maxAge = milliseconds(options.maxAge, 'maxAge', 600_000);
  const cooldown = milliseconds(options.cooldown, 'cooldown', 30_000);
  const timeout = milliseconds(options.timeout, 'timeout', 10_000);
  const verifier = new Verifier(await configured(options, 'createRemoteVerifier'));
  const remote = new RemoteVerifier(verifier, url, maxAge, cooldown, timeout);
  try {
    await remote.refresh();
  } catch (error) {
    remote.close();
    throw error;
  }
  return remote;
}
