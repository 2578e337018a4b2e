// Shadow-stack high-water of the two WebAssembly modules' `verify`, measured by painting.
// rustc's wasm32 modules put the stack first in linear memory: it grows down from 1 MiB
// towards 0, and the static data starts at 1 MiB. So [0, 1 MiB) is painted, `verify` runs, and
// the lowest byte no longer holding the pattern marks the deepest point (twice, with two
// patterns). Only the stack that lives in linear memory is seen (arrays and other locals whose
// address is taken); wasm locals and the operand stack live in the engine.
// Usage: node footprint/wasm-stack.mjs VERIFY_WITH_STACK_FEATURE.wasm P256.wasm
import { readFileSync } from "node:fs";

// tests/data/tokens.json `typical_pomerium` (as footprint/device/src/bin/verify_only.rs): valid
// at 1700000100 for app.example.com, signed by the key both modules embed.
const TOKEN =
  "eyJhbGciOiJFUzI1NiIsImtpZCI6IjY3Y2YyMGVhMTJkOTZhYzA1ZTNlODcyM2ZiNGE5NTgyZGI3Y2MzNmQ2YWZlNTdmN2UyYjkwNDlhNjgzYjAzM2EiLCJ0eXAiOiJKV1QifQ" +
  ".eyJhdWQiOiJhcHAuZXhhbXBsZS5jb20iLCJlbWFpbCI6ImFsaWNlQGV4YW1wbGUuY29tIiwiZXhwIjoxNzAwMDAwMzAwLCJncm91cHMiOlsiYWRtaW5zIiwiZGV2cyJdLCJpYXQiOjE3MDAwMDAwMDAsImlzcyI6ImFwcC5leGFtcGxlLmNvbSIsImp0aSI6IjVmMGU5YTNjLThkMmItNGM3MS05ZTZhLTJiNGQ4ZjFjN2EzMCIsIm5hbWUiOiJBbGljZSIsInNpZCI6ImI3YzRlMmQxLTZhOWYtNGUzOC04YzE1LTNkMmE3ZjliMGU2NCIsInN1YiI6ImFsaWNlLWlkLTAwMDEiLCJ1c2VyIjoiYWxpY2UtaWQtMDAwMSJ9" +
  "._FpKDWVfA76a8saTQjxYHkHhT1Sz4c16EZN-KlG_tm1m289RnLiAoUIVmBCMRZ6HsAwUwwFQxWwiRCO81xlYww";

async function measure(path, call) {
  const { instance } = await WebAssembly.instantiate(readFileSync(path), {});
  const e = instance.exports;
  const mem = new Uint8Array(e.memory.buffer);
  const stackTop = 1 << 20;
  if (e.input() < stackTop) throw new Error(`${path}: static data below 1 MiB; the stack is not first`);
  let deepest = 0;
  for (const color of [0xa5, 0x5a]) {
    mem.fill(color, 0, stackTop - 64);
    const result = call(e, mem);
    if (result !== 0) throw new Error(`${path}: verify returned ${result}`);
    let low = 0;
    while (low < stackTop && mem[low] === color) low++;
    deepest = Math.max(deepest, stackTop - low);
  }
  return { deepest, exports: e };
}

const [verifyPath, p256Path] = process.argv.slice(2);
const token = Buffer.from(TOKEN);
const ours = await measure(verifyPath, (e, mem) => {
  mem.set(token, e.input());
  return e.verify(token.length, 1700000100n);
});
const dot = TOKEN.lastIndexOf(".");
const message = Buffer.from(TOKEN.slice(0, dot));
const signature = Buffer.from(TOKEN.slice(dot + 1), "base64url");
const floor = await measure(p256Path, (e, mem) => {
  mem.set(signature, e.input());
  mem.set(message, e.input() + 64);
  return e.verify(message.length);
});
const caller = ours.exports.caller_bytes();
console.log(JSON.stringify({ verify_total: ours.deepest, caller_bytes: caller, verify_beyond_buffers: ours.deepest - caller, p256: floor.deepest }));
