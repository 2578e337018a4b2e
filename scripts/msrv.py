#!/usr/bin/env python3
"""Checks the declared MSRV against what can be checked without installing that toolchain.

    python3 scripts/msrv.py

1. Every publishable crate of the workspace declares the same `rust-version`.
2. No crate in their normal (non-dev) dependency graph, as Cargo.lock resolves it for every
   target, declares a newer `rust-version`: a user on the MSRV can build what we publish.
The third check is clippy's `incompatible_msrv` lint, which reads `rust-version` and flags any
standard-library item stabilised later; CI's `cargo clippy -- -D warnings` makes it an error.
Standard library only.
"""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def version(v):
    return tuple(int(x) for x in (v.split(".") + ["0", "0"])[:3])


def main():
    meta = json.loads(subprocess.run(
        ["cargo", "metadata", "--locked", "--format-version", "1"], cwd=ROOT, check=True,
        stdout=subprocess.PIPE).stdout)
    packages = {p["id"]: p for p in meta["packages"]}
    members = [packages[i] for i in meta["workspace_members"]]
    published = [p for p in members if p.get("publish") != []]
    declared = {p["name"]: p.get("rust_version") for p in published}
    problems = []
    if len(set(declared.values())) != 1 or None in declared.values():
        problems.append(f"the publishable crates declare different or no rust-version: {declared}")
    msrv = max(version(v) for v in declared.values() if v)
    nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
    seen, todo = set(), [p["id"] for p in published]
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        for dep in nodes[pid]["deps"]:
            if any(k["kind"] is None for k in dep["dep_kinds"]):
                todo.append(dep["pkg"])
    for pid in sorted(seen):
        p = packages[pid]
        rv = p.get("rust_version")
        if rv and version(rv) > msrv:
            problems.append(f"{p['name']} {p['version']} needs Rust {rv}")
    for line in problems:
        print(f"msrv: {line}")
    if problems:
        sys.exit(1)
    print(f"msrv: {', '.join(declared)} declare {'.'.join(map(str, msrv))}; "
          f"{len(seen) - len(published)} dependencies need no newer Rust")


if __name__ == "__main__":
    main()
