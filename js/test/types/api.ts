// Uses the whole API as JS.md writes it; `tsc --noEmit` checks the package's declarations
// against it (ci.sh runs it where the tarball is installed). Never run.
import {
  createRemoteVerifier,
  createVerifier,
  KeyError,
  RemoteVerifier,
  Verifier,
  VerifyError,
  type Claims,
  type KeyFile,
  type Keys,
  type VerifyErrorCode,
} from "pomerium-jwt";

export async function staticKeys(jwksText: string, pem: string, der: Uint8Array, token: string): Promise<string> {
  const jwk = { kty: "EC", crv: "P-256", x: "x", y: "y", kid: "k" };
  const files: KeyFile[] = [jwksText, { keys: [jwk] }, jwk, pem, der];
  const keys: Keys = files;
  const verifier: Verifier = await createVerifier({ keys, audience: "app.example.com", issuer: undefined, leeway: 60 });
  await createVerifier({ keys: pem, audience: "app.example.com" });
  const claims: Claims = verifier.verify(token, { now: undefined });
  verifier.verify(`Authorization: Bearer ${token}`, { now: 1_700_000_000 });
  verifier.verify(token, { now: 1_700_000_000n });
  verifier.verify(token);
  const aud: string | string[] = claims.aud;
  const groups: string[] = claims.groups;
  const email: string | null = claims.email;
  const nbf: number | null = claims.nbf;
  const exp: number = claims.exp + claims.iat;
  const custom: unknown = claims["given_name"];
  verifier.setKeys(jwksText);
  verifier.addKeys([pem, der]);
  try {
    verifier.verify(token);
  } catch (error) {
    if (error instanceof VerifyError) {
      const code: VerifyErrorCode = error.code;
      if (code === "expired" || code === "unknown_key") return error.message;
    } else if (error instanceof KeyError) {
      const code: "key" = error.code;
      return code;
    }
  }
  return [aud, groups, email, nbf, exp, custom, claims.iss, claims.sub, claims.user, claims.name, claims.sid, claims.jti].join();
}

export async function remoteKeys(token: string): Promise<Claims> {
  const verifier: RemoteVerifier = await createRemoteVerifier({
    jwksUrl: "https://authenticate.example.com/.well-known/pomerium/jwks.json",
    audience: "app.example.com",
    maxAge: 600_000,
    cooldown: 30_000,
    timeout: 10_000,
  });
  await createRemoteVerifier({ jwksUrl: new URL("https://a.example.com/jwks.json"), audience: "a", issuer: "i", leeway: 0 });
  const claims: Claims = await verifier.verify(token, { now: undefined });
  verifier.close();
  return claims;
}

// @ts-expect-error audience is required
createVerifier({ keys: "pem" });
// @ts-expect-error verify is synchronous: it returns claims, not a promise
export const notAPromise: Promise<Claims> = (null as unknown as Verifier).verify("t");
// @ts-expect-error no such code
export const wrongCode: VerifyErrorCode = "bad_token";
