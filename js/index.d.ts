/**
 * One key file's contents: a JWKS (text or object, as served at
 * `/.well-known/pomerium/jwks.json`), a JWK (text or object), PEM text (public keys or
 * certificates, several blocks allowed), DER bytes, or the base64 PEM of Pomerium's
 * `signing_key`.
 */
export type KeyFile = string | Uint8Array | ArrayBuffer | Jwk | Jwks;

/** Key files: one, or an array of them (each must yield at least one usable P-256 key). */
export type Keys = KeyFile | readonly KeyFile[];

/** A JSON Web Key as an object (only EC P-256 public keys are used). */
export interface Jwk {
  kty: string;
  crv?: string;
  x?: string;
  y?: string;
  kid?: string;
  [member: string]: unknown;
}

/** A JSON Web Key Set as an object. */
export interface Jwks {
  keys: Jwk[];
  [member: string]: unknown;
}

/** Unix seconds: a number, or a bigint beyond 2^53. */
export type UnixSeconds = number | bigint;

export interface VerifierOptions {
  /** The keys: a key file's contents or an array of them. */
  keys: Keys;
  /** Required, non-empty: the route's host, as Pomerium writes it in `aud`. */
  audience: string;
  /** Require `iss` to be exactly this; without it, `iss` must be the audience, `https://<audience>/` or `pomerium-proxy`. */
  issuer?: string;
  /** Clock-skew leeway in seconds; 60 by default. */
  leeway?: UnixSeconds;
}

export interface RemoteVerifierOptions {
  /** Where the JWKS is fetched from (`https://authenticate.example.com/.well-known/pomerium/jwks.json`). */
  jwksUrl: string | URL;
  /** Required, non-empty: the route's host, as Pomerium writes it in `aud`. */
  audience: string;
  issuer?: string;
  leeway?: UnixSeconds;
  /** Fetch the keys again this many milliseconds after the last good fetch; default 600000. */
  maxAge?: number;
  /** At most one fetch for unknown `kid`s per this many milliseconds; default 30000. */
  cooldown?: number;
  /** A fetch, body included, that takes longer fails; milliseconds, default 10000. */
  timeout?: number;
}

export interface VerifyOptions {
  /** The time to check against, in Unix seconds; the clock by default. */
  now?: UnixSeconds;
}

/** The verified claims: the known ones always present, then every other claim of the token. */
export interface Claims {
  iss: string;
  aud: string | string[];
  sub: string | null;
  email: string | null;
  user: string | null;
  name: string | null;
  sid: string | null;
  jti: string | null;
  /** Empty when the token has none. */
  groups: string[];
  exp: number;
  iat: number;
  nbf: number | null;
  /** Every other claim of the token (Pomerium's `jwt_claims_headers`, say), with its value. */
  [claim: string]: unknown;
}

/** One stable string per kind of rejection. */
export type VerifyErrorCode =
  | "empty"
  | "malformed"
  | "algorithm"
  | "unknown_key"
  | "bad_signature"
  | "expired"
  | "not_yet_valid"
  | "issued_in_future"
  | "audience"
  | "issuer"
  | "too_large";

/** A token that did not verify. */
export class VerifyError extends Error {
  constructor(code: VerifyErrorCode, message: string);
  readonly name: "VerifyError";
  /** Which check failed. */
  readonly code: VerifyErrorCode;
}

/** Keys that yield no usable P-256 public key, hold a private key, or are malformed. */
export class KeyError extends Error {
  constructor(message: string);
  readonly name: "KeyError";
  readonly code: "key";
}

/** Verifies tokens against keys given in memory. */
export class Verifier {
  private constructor();
  /**
   * Verifies a token (as a header value may hold it: white space, `X-Pomerium-Jwt-Assertion:` or
   * `Authorization:`, and `Bearer ` are ignored) and returns its claims.
   * @throws {VerifyError} when the token is rejected.
   */
  verify(token: string | Uint8Array | null | undefined, options?: VerifyOptions): Claims;
  /** Replaces the keys. @throws {KeyError} and keeps the previous keys. */
  setKeys(keys: Keys): void;
  /** Adds keys. @throws {KeyError} and keeps the previous keys. */
  addKeys(keys: Keys): void;
}

/** Verifies tokens against a JWKS fetched from a URL and kept fresh. */
export class RemoteVerifier {
  private constructor();
  /**
   * Verifies a token; an unknown `kid` may fetch the keys again first (at most once per cooldown).
   * @throws {VerifyError} (as a rejection) when the token is rejected.
   */
  verify(token: string | Uint8Array | null | undefined, options?: VerifyOptions): Promise<Claims>;
  /** Stops the background refresh, so node can exit; verification goes on with the keys in use. */
  close(): void;
}

/**
 * A verifier for `audience` with `keys`.
 * Rejects with a `KeyError` for unusable keys, a `TypeError` for a missing or empty audience.
 */
export function createVerifier(options: VerifierOptions): Promise<Verifier>;

/**
 * A verifier whose keys come from `jwksUrl`. The first fetch happens here: it rejects when that
 * fetch fails (network, status, timeout, over 1 MiB) or yields no usable key (a `KeyError`).
 */
export function createRemoteVerifier(options: RemoteVerifierOptions): Promise<RemoteVerifier>;
