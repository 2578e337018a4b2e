#!/usr/bin/env python3
"""Fails when a file of the repository refers to a path the repository does not have.

    python3 scripts/check-refs.py          # every tracked (and new, not ignored) text file

What counts as a reference:
- markdown links and link definitions, `[text](target)` and `[name]: target`: a relative target
  must exist (from the file's folder); a link into this repository on GitHub
  (REPOSITORY/blob/main/PATH or /tree/main/PATH) must name an existing PATH. The crates'
  READMEs are also the crate documentation on crates.io and docs.rs, where relative links are
  dead, so there every link must be absolute;
- `include_str!`, `include_bytes!` and `#[path = ...]` in Rust (from the file's folder);
- a path in backticks, in any text file, that looks like a repository path: no spaces or
  placeholders, and a file extension or a trailing slash. It must exist from the file's folder,
  one of the folders above it (a crate's README names its src/main.rs), the repository root, or
  tests/data (fixture tables name key files as tokens.json does). Build outputs (target/,
  fuzz/corpus/, ...) are not checked;
- in shell scripts (and .ci/run), what they run or build: the path after bash, sh, python3,
  node, source or --manifest-path.
Standard library only.
"""

import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPOSITORY = "https://github.com/pomerium-jwt/pomerium-jwt"
TEXT = (".md", ".rs", ".toml", ".sh", ".py", ".mjs", ".js", ".txt", ".yml", ".yaml")
SCRIPTS = (".sh",)
# Made by builds and fuzzing, never committed.
GENERATED = ("target/", "corpus/", "artifacts/", "coverage/", "fuzz/corpus", "fuzz/artifacts", "node_modules", "pkg/")
EXTENSIONS = ("md rs toml sh py mjs js json pem der jwt b64 bin txt lock wasm yml yaml html"
              " crate cfg x c h ld").split()

MD_LINK = re.compile(r"\[[^\]\n]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
MD_DEF = re.compile(r"^\s*\[[^\]]+\]:\s*(\S+)", re.M)
RUST_INCLUDE = re.compile(r"include_(?:str|bytes)!\(\s*\"([^\"]+)\"\s*\)|#\[path\s*=\s*\"([^\"]+)\"\]")
BACKTICK = re.compile(r"`([^`\s]+)`")
SHELL_PATH = re.compile(
    r"(?:\b(?:bash|sh|python3?|node|source)\s+|--manifest-path[= ]\s*)((?:\.{1,2}/)?\w[\w.-]*(?:/[\w.-]+)+|\w[\w-]*\.\w+)(?![\w$/.-])")


def files():
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         cwd=ROOT, check=True, stdout=subprocess.PIPE).stdout.decode()
    return sorted(f for f in out.split("\0") if f and os.path.isfile(os.path.join(ROOT, f)))


def published_readmes(all_files):
    """The `readme` of every publishable crate: rendered on crates.io (and, for the library, as
    its docs.rs front page), where a relative link leads nowhere."""
    import tomllib
    readmes = set()
    for rel in all_files:
        if os.path.basename(rel) != "Cargo.toml":
            continue
        with open(os.path.join(ROOT, rel), "rb") as f:
            package = tomllib.load(f).get("package", {})
        if not package or package.get("publish", True) is False:
            continue
        folder = os.path.dirname(rel)
        readme = package.get("readme", "README.md")
        if isinstance(readme, str):
            readmes.add(os.path.normpath(os.path.join(folder, readme)))
    return readmes


def exists(path, base):
    path = path.split("#")[0].split("?")[0]
    if not path:
        return True
    bases = [base]
    while os.path.relpath(bases[-1], ROOT) != ".":
        bases.append(os.path.dirname(bases[-1]))
    bases.append(os.path.join(ROOT, "tests", "data"))
    return any(os.path.exists(os.path.normpath(os.path.join(d, path))) for d in bases)


def generated(path):
    p = path.lstrip("./")
    return any(p.startswith(g) or f"/{g}" in p for g in GENERATED)


def looks_like_path(s):
    if any(c in s for c in "<>{}[]()*$|=,;:'\"\\?%@!&^~") or s.startswith(("/", "-", "http")):
        return False
    if "/" not in s or s.startswith("//") or ".." in s.split("/")[0:1]:
        return False
    if s.endswith("/"):
        return True
    return s.rsplit(".", 1)[-1] in EXTENSIONS and "." in s.rsplit("/", 1)[-1]


def check_file(rel, text, problems, published):
    base = os.path.dirname(os.path.join(ROOT, rel))

    def bad(line_of, ref, why):
        line = text.count("\n", 0, line_of) + 1
        problems.append(f"{rel}:{line}: {ref}: {why}")

    if rel.endswith(".md"):
        for m in list(MD_LINK.finditer(text)) + list(MD_DEF.finditer(text)):
            target = m.group(1).strip("<>")
            if target.startswith(REPOSITORY):
                rest = target[len(REPOSITORY):]
                inner = re.match(r"/(?:blob|tree)/main/(.+)", rest)
                if inner and not exists(inner.group(1), ROOT):
                    bad(m.start(), target, "no such path in the repository")
            elif re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                continue
            elif rel in published:
                bad(m.start(), target, f"relative link in a crate README (dead on crates.io and docs.rs): "
                                       f"use {REPOSITORY}/blob/main/...")
            elif not exists(target, base):
                bad(m.start(), target, "dead relative link")
    if rel.endswith(".rs"):
        for m in RUST_INCLUDE.finditer(text):
            target = m.group(1) or m.group(2)
            # `#[path]` inside a non-mod.rs file resolves from the file's folder as well.
            if not exists(target, base):
                bad(m.start(), target, "included file does not exist")
    for m in BACKTICK.finditer(text):
        ref = m.group(1).rstrip(".,:;")
        if looks_like_path(ref) and not generated(ref) and not exists(ref, base):
            bad(m.start(), ref, "no such path (from the repository root or this file's folder)")
    if rel.endswith(SCRIPTS) or rel == ".ci/run":
        for lineno, line in enumerate(text.splitlines(), 1):
            code = line.split(" #", 1)[0]
            if code.lstrip().startswith("#"):
                continue
            for m in SHELL_PATH.finditer(code):
                ref = m.group(1)
                if not generated(ref) and not exists(ref, base):
                    problems.append(f"{rel}:{lineno}: {ref}: a path the script uses does not exist")


def main():
    problems = []
    all_files = files()
    published = published_readmes(all_files)
    for rel in all_files:
        if not rel.endswith(TEXT) and rel != ".ci/run":
            continue
        try:
            with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
                text = f.read()
        except UnicodeDecodeError:
            continue
        check_file(rel, text, problems, published)
    for p in problems:
        print(p)
    if problems:
        print(f"check-refs: {len(problems)} reference(s) to paths the repository does not have", file=sys.stderr)
        sys.exit(1)
    print("check-refs: every reference names a path the repository has")


if __name__ == "__main__":
    main()
