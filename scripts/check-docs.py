#!/usr/bin/env python3
"""Fails when the documentation says something the repository no longer makes true.

    python3 scripts/check-docs.py            # CI runs it near the end, after embed/wasm/test.sh

What no test can show, checked here:
- figures CI prints: the WebAssembly module's size and the count of node checks in
  embed/README.md are what `node embed/wasm/run.mjs` prints for the module CI built (so run this
  after `bash embed/wasm/test.sh`); the fixture counts in README.md, embed/ and tests/data are
  the lengths of tests/data/tokens.json and keys.json;
- every paragraph or table of a README that gives a measured time (µs, ms, s, min), a rate
  (requests/s) or an instruction count names the command in backticks and the commit (a hash
  git knows) it came from, in the block itself or in the paragraph just before it;
- the crate pages: every Cargo feature of the library and of the tower crate is a row of its
  README's features table; a public item behind a feature in src/ carries its `doc(cfg)` badge;
  README.md's item links ([`KeySet`], ...) are defined twice, for GitHub (a source file that
  exists) and, in src/lib.rs before the README, as intra-doc links (rustdoc -D warnings then
  checks that each names a public item), with the same names;
- no private names: a Rust name in backticks on a crate page is public in that crate (or is
  another crate's, listed in EXTERNAL);
- install lines that work today: README.md says `cargo install --path cli` and the crates.io
  line, and cli/ builds the binary it names; the README names the test command CI runs and the
  cold time it took;
- CHANGELOG.md: Keep a Changelog headings; while git has no tag, one version, [Unreleased], and
  no link to a tag or a comparison with one.
Standard library only (node for the module's checks).
"""

import json
import os
import re
import subprocess
import sys
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WASM = "embed/wasm/target/wasm32-unknown-unknown/release/pomerium_jwt_wasm.wasm"
# READMEs whose measured figures must name their command and commit.
FIGURE_FILES = ["README.md", "embed/README.md", "embed/hosts/README.md", "footprint/README.md"]
# A measured figure: a time, a rate, an instruction count (not a capacity, which the code fixes).
MEASURED = re.compile(
    r"\d[\d,.]*\s*(?:µs|us\b|ms\b|s\b(?! of)|min\b)|requests/s|\d[\d,.]*\s*M? instructions")
COMMAND = re.compile(r"`(?:cd \S+ && )?(?:[A-Z_]+=\S+ )*(?:bash|python3|cargo|node|time)\b[^`]*`")
HASH = re.compile(r"\b[0-9a-f]{7,40}\b")

failures = []


def fail(message):
    failures.append(message)


def read(rel):
    with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
        return f.read()


def git(*args):
    return subprocess.run(["git", *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def is_commit(word):
    # A shallow clone lacks old commits: there any hash-shaped word must do.
    if git("rev-parse", "--is-shallow-repository").stdout.strip() == "true":
        return re.fullmatch(r"[0-9a-f]{7,40}", word) is not None
    return git("cat-file", "-e", word + "^{commit}").returncode == 0


def blocks(text):
    """Paragraphs, tables and list items outside code fences, with their first line number."""
    out, current, start, fenced = [], [], 0, False
    for number, line in enumerate(text.split("\n"), 1):
        if line.startswith("```"):
            fenced = not fenced
            if current:
                out.append((start, "\n".join(current)))
                current = []
            continue
        if fenced:
            continue
        new_item = re.match(r"\s*(?:[-*]|\d+\.) ", line) is not None
        if not line.strip() or (new_item and current and not current[-1].startswith("|")):
            if current:
                out.append((start, "\n".join(current)))
            current = [line] if line.strip() else []
            start = number
            continue
        if not current:
            start = number
        current.append(line)
    if current:
        out.append((start, "\n".join(current)))
    return out


def names_source(block):
    return COMMAND.search(block) and any(is_commit(h) for h in HASH.findall(block))


def check_figures_named():
    for rel in FIGURE_FILES:
        previous = ""
        for line, block in blocks(read(rel)):
            if block.startswith("#"):
                previous = ""
                continue
            # A leeway ("60 s of leeway", "leeway 60s") is a setting, not a measurement.
            figures = [m for m in MEASURED.finditer(block)
                       if "leeway" not in block[max(0, m.start() - 12):m.end() + 12]]
            if figures and not (names_source(block) or names_source(previous + "\n" + block)):
                figure = figures[0].group(0)
                fail(f"{rel}:{line}: a measured figure ({figure!r}) without the command (in backticks) "
                     "and the commit that printed it, in its paragraph or the one before")
            previous = block


def check_printed_figures():
    tokens = len(json.loads(read("tests/data/tokens.json")))
    keys = len(json.loads(read("tests/data/keys.json")))
    readme = read("README.md")
    if f"{tokens} token and {keys} key-file fixtures" not in readme:
        fail(f"README.md: the fixture counts are {tokens} tokens and {keys} key files "
             "(tests/data/tokens.json, keys.json); say so as `N token and M key-file fixtures`")
    for rel in ("embed/README.md", "embed/hosts/README.md", "tests/data/README.md"):
        for said in re.findall(r"(\d+) token", read(rel)) + re.findall(r"tokens\.json` \((\d+)", read(rel)):
            if int(said) != tokens:
                fail(f"{rel}: says {said} token cases, tests/data/tokens.json has {tokens}")

    embed = read("embed/README.md")
    wasm = os.path.join(ROOT, WASM)
    if not os.path.exists(wasm):
        fail(f"{WASM} is missing: run `bash embed/wasm/test.sh` first (CI does)")
        return
    run = subprocess.run(["node", "embed/wasm/run.mjs", WASM], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    printed = run.stdout
    size = re.search(r"module: (\d+) bytes", printed)
    passed = re.search(r"^(\d+) passed, 0 failed$", printed, re.M)
    if run.returncode != 0 or not size or not passed:
        fail("node embed/wasm/run.mjs did not pass:\n" + printed[-2000:])
        return
    said_size = re.search(r"\*\*Size: ([\d,]+) bytes\*\*", embed)
    if not said_size or int(said_size.group(1).replace(",", "")) != int(size.group(1)):
        fail(f"embed/README.md: the module is {int(size.group(1)):,} bytes (as run.mjs printed it), "
             f"the README says {said_size.group(1) if said_size else 'nothing'}")
    said_passed = re.search(r"`(\d+) passed, 0 failed`", embed)
    if not said_passed or said_passed.group(1) != passed.group(1):
        fail(f"embed/README.md: run.mjs printed `{passed.group(0)}`, the README says "
             f"{said_passed.group(0) if said_passed else 'nothing'}")


def features_of(manifest):
    with open(os.path.join(ROOT, manifest), "rb") as f:
        return sorted(k for k in tomllib.load(f).get("features", {}) if k != "default")


def check_crate_pages():
    for manifest, readme in (("Cargo.toml", "README.md"), ("tower/Cargo.toml", "tower/README.md")):
        text = read(readme)
        for feature in features_of(manifest):
            if not re.search(rf"^\| `{re.escape(feature)}` \|", text, re.M):
                fail(f"{readme}: the feature `{feature}` of {manifest} is not a row of its features table")
    # A public item behind a feature shows the feature on docs.rs.
    for dirpath, _, names in [w for tree in ("src", "tower/src") for w in os.walk(os.path.join(ROOT, tree))]:
        for name in names:
            rel = os.path.relpath(os.path.join(dirpath, name), ROOT)
            lines = read(rel).split("\n")
            for i, line in enumerate(lines):
                m = re.match(r'\s*#\[cfg\(feature = "([^"]+)"\)\]', line)
                if not m:
                    continue
                j = i + 1
                while j < len(lines) and (lines[j].strip().startswith(("#[", "///")) or not lines[j].strip()):
                    j += 1
                attrs = "\n".join(lines[i:j])
                if j < len(lines) and re.match(r"\s*pub\s", lines[j]) and f'doc(cfg(feature = "{m.group(1)}"))' not in attrs:
                    fail(f"{rel}:{i + 1}: a public item behind feature {m.group(1)!r} without "
                         f'#[cfg_attr(docsrs, doc(cfg(feature = "{m.group(1)}")))]')
    if "#![cfg_attr(docsrs, feature(doc_cfg))]" not in read("src/lib.rs"):
        fail("src/lib.rs: no #![cfg_attr(docsrs, feature(doc_cfg))], so docs.rs shows no feature badges")

    # Item links: defined for GitHub in the README and as intra-doc links in the crate's lib.rs.
    for readme_path, lib_path, src in (("README.md", "src/lib.rs", "src/"), ("tower/README.md", "tower/src/lib.rs", "tower/src/")):
        check_item_links(readme_path, lib_path, src)


def check_item_links(readme_path, lib_path, src):
    readme = read(readme_path)
    lib = read(lib_path)
    item = r"`[A-Za-z_][\w:]*`"
    on_github = {n: t for n, t in re.findall(rf"^\[({item})\]: (\S+)$", readme, re.M) if "/blob/main/" in t}
    intra = dict(re.findall(rf"^//! \[({item})\]: (\S+)$", lib, re.M))
    # An item behind a feature: `#![cfg_attr(feature = "f", doc = "[`Item`]: Item")]`.
    intra |= dict(re.findall(rf'^#!\[cfg_attr\(feature = "[\w-]+", doc = "\[({item})\]: (\S+)"\)\]$', lib, re.M))
    used = set(re.findall(rf"\[({item})\](?![(:])", readme)) | set(re.findall(rf"\]\[({item})\]", readme))
    used = {n for n in used if n in on_github or n in intra or readme_path == "README.md"}
    definitions = [m.start() for m in re.finditer(r'^(//! \[|#!\[cfg_attr\(feature = "[\w-]+", doc = "\[)', lib, re.M)]
    if definitions and max(definitions) > lib.find('include_str!("../README.md")'):
        fail(f"{lib_path}: the intra-doc link definitions must come before the README, so they win")
    for name in sorted(used):
        if name not in on_github:
            fail(f"{readme_path}: the item link [{name}] has no definition for GitHub at the end")
        if name not in intra:
            fail(f"{lib_path}: the item link [{name}] of {readme_path} has no intra-doc definition")
    for name, target in on_github.items():
        if name not in used:
            fail(f"{readme_path}: [{name}] is defined but not used")
        path = target.split("/blob/main/", 1)[-1]
        if not target.startswith("https://github.com/pomerium-jwt/pomerium-jwt/blob/main/" + src) or \
                not os.path.isfile(os.path.join(ROOT, path)):
            fail(f"{readme_path}: [{name}] should point at the source file in {src} that defines it: {target}")
        elif re.search(r"\b" + re.escape(name.strip("`").split("::")[-1]) + r"\b", read(path)) is None:
            fail(f"{readme_path}: [{name}] points at {path}, which does not mention it")
    for name in intra:
        if name not in used:
            fail(f"{lib_path}: [{name}] is defined for a README link that no longer exists")
    if "#![cfg_attr(docsrs, feature(doc_cfg))]" not in lib:
        fail(f"{lib_path}: no #![cfg_attr(docsrs, feature(doc_cfg))], so docs.rs shows no feature badges")


# Names of other crates and of the language that the crate pages mention, with whose they are.
EXTERNAL = {
    "Box", "Copy", "Option", "WebAssembly",
    "VerifyingKey::verify",  # p256
    "Decoder::new_detect_wrap",  # pem-rfc7468
    "heapless::String",
    "ClientConfig",  # rustls
    "FromRequestParts", "OptionalFromRequestParts",  # axum
    "Identity",  # pomerium-jwt-tower, named by the library's README
    "http::Response", "Host",  # http
    "Service",  # tower
    "rustls::crypto::ring::default_provider",  # rustls
}


def public_names(lib_rs):
    """What a crate's lib.rs makes public: `pub use` names and `pub mod` modules."""
    text = read(lib_rs)
    names = set(re.findall(r"^pub mod (\w+);", text, re.M))
    for group in re.findall(r"^pub use [\w:]+::(?:\{([^}]*)\}|(\w+));", text, re.M):
        names.update(n.strip() for n in (group[0] or group[1]).split(",") if n.strip())
    return names


def check_no_private_names():
    """Every Rust name in backticks on a crate page is public API, or another crate's."""
    variants = set(re.findall(r"^    ([A-Z]\w*)\b", read("src/error.rs"), re.M))
    pages = (("README.md", "src/lib.rs", variants), ("tower/README.md", "tower/src/lib.rs", set()))
    for readme, lib_rs, extra in pages:
        public = public_names(lib_rs) | extra
        text = re.sub(r"```.*?```", "", read(readme), flags=re.S)
        for m in re.finditer(r"`([A-Za-z_]\w*(?:::\w+)*)(?:<[^`]*>)?(?:\([^`]*\))?`", text):
            name = re.sub(r"^(pomerium_jwt_tower|pomerium_jwt)::", "", m.group(1))
            if not (re.match(r"[A-Z][a-z]", name) or "::" in name) or name in EXTERNAL:
                continue
            if name.split("::")[0] not in public:
                fail(f"{readme}: `{name}` is not a public item of the crate ({lib_rs}); a crate page "
                     "names only what its readers can use (or add another crate's name to EXTERNAL)")


def check_install_and_tests():
    readme = read("README.md")
    for line in ("cargo install --path cli", "cargo install pomerium-jwt-cli", "cargo test --workspace --all-features"):
        if line not in readme:
            fail(f"README.md: does not say `{line}`")
    with open(os.path.join(ROOT, "cli/Cargo.toml"), "rb") as f:
        cli = tomllib.load(f)
    if cli["package"]["name"] != "pomerium-jwt-cli" or [b["name"] for b in cli.get("bin", [])] != ["pomerium-jwt"]:
        fail("cli/Cargo.toml: the README's install lines name the package pomerium-jwt-cli and the binary pomerium-jwt")
    if not re.search(r"took \d+ min\s+\d+ s cold", readme):
        fail("README.md: the cold time of `cargo test --workspace --all-features` (`took N min M s cold`) is missing")


def check_changelog():
    text = read("CHANGELOG.md")
    if not text.startswith("# Changelog\n") or "keepachangelog.com" not in text:
        fail("CHANGELOG.md: not in Keep a Changelog form (title, link to the format)")
    for heading in re.findall(r"^### (.+)$", text, re.M):
        if heading not in ("Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"):
            fail(f"CHANGELOG.md: `### {heading}` is not a Keep a Changelog section")
    versions = re.findall(r"^## \[([^\]]+)\]", text, re.M)
    tags = set(git("tag").stdout.split())
    if not versions or versions[0] != "Unreleased":
        fail("CHANGELOG.md: the first version must be [Unreleased]")
    for version in versions[1:]:
        if f"v{version}" not in tags and version not in tags:
            fail(f"CHANGELOG.md: version [{version}] has no git tag: it was not released")
    for target in re.findall(r"^\[[^\]]+\]: (\S+)$", text, re.M):
        m = re.search(r"/compare/(.+?)\.\.\.([^/]+)$|/releases/tag/([^/]+)$|/tree/([^/]+)$", target)
        if m:
            for ref in filter(None, m.groups()):
                if ref not in tags and ref not in ("HEAD", "main"):
                    fail(f"CHANGELOG.md: links to the tag {ref}, which does not exist: {target}")


check_printed_figures()
check_figures_named()
check_crate_pages()
check_no_private_names()
check_install_and_tests()
check_changelog()
for message in failures:
    print("check-docs:", message)
if failures:
    sys.exit(1)
print("check-docs: figures, crate pages, install lines and CHANGELOG agree with the repository")
