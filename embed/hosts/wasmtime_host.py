#!/usr/bin/env python3
"""Makes the calls of calls.py (one per line on stdin) on the pomerium-jwt WebAssembly module in
wasmtime (Cranelift, through the `wasmtime` package from PyPI) and answers each with one line on
stdout; see calls.py.

    python3 wasmtime_host.py MODULE.wasm < calls.txt > answers.txt
"""

import sys
import time

from wasmtime import Engine, Instance, Module, Store


def u64(text):
    """A u64 as the signed i64 that wasm passes (two's complement above 2^63 - 1)."""
    value = int(text)
    return value - (1 << 64) if value >= 1 << 63 else value


def from_hex(text):
    return b"" if text == "-" else bytes.fromhex(text)


def main(wasm_path):
    engine = Engine()
    store = Store(engine)
    instance = Instance(store, Module.from_file(engine, wasm_path), [])
    x = instance.exports(store)
    memory = x["memory"]

    def put(data):
        memory.write(store, data, x["input_ptr"](store))
        return len(data)

    def output():
        start = x["output_ptr"](store)
        return bytes(memory.read(store, start, start + x["output_len"](store)))

    out = []
    for line in sys.stdin.read().splitlines():
        fields = line.split(" ")
        call = fields[0]
        if call in ("load_keys", "add_keys", "set_audience", "set_issuer"):
            status = x[call](store, put(from_hex(fields[1])))
        elif call == "set_leeway":
            status = x["set_leeway"](store, u64(fields[1]))
        elif call == "verify":
            status = x["verify"](store, put(from_hex(fields[1])), u64(fields[2]))
        elif call == "bench":
            token = from_hex(fields[2])
            now = u64(fields[3])
            budget = int(fields[1]) * 1_000_000
            verify, rounds = x["verify"], 0
            started = time.perf_counter_ns()
            elapsed = 0
            while rounds < 3 or elapsed < budget:
                status = verify(store, put(token), now)
                rounds += 1
                elapsed = time.perf_counter_ns() - started
            out.append(f"bench {status} {rounds} {elapsed}")
            continue
        else:
            raise SystemExit(f"unknown call {call}")
        result = output()
        out.append(f"{call} {status} {result.hex() if result else '-'}")
    sys.stdout.write("".join(line + "\n" for line in out))


if __name__ == "__main__":
    main(sys.argv[1])
