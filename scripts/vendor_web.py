#!/usr/bin/env python3
"""Copies the npm packages the web admin uses into web/vendor/, so the
binary embeds them (scripts/embed_web.py) and a build needs no npm.

`make web-vendor` first installs the versions pinned in
scripts/web-vendor/package-lock.json (npm ci, no install scripts), then runs
this. Each copied file starts with a line naming its package, version and
licence; the package's licence file, when it ships one, is copied beside it.
The copies are committed: change a version in scripts/web-vendor/package.json,
run `npm install --package-lock-only` there and `make web-vendor`, and commit
both. `--check` compares the committed copies with node_modules instead and
exits 1 when one differs (or is missing).

One row per file: (package, path inside the package, path under web/vendor/).
"""
import json
import os
import sys

FILES = [
    # The QR code of the TOTP enrolment (web/js/qr.js): an ES module, no dependencies.
    ("qrcode-generator", "dist/qrcode.mjs", "qrcode-generator/qrcode.mjs"),
    # The usage charts of the key and account usage panels (web/js/usage.js).
    ("uplot", "dist/uPlot.esm.js", "uplot/uPlot.esm.js"),
    ("uplot", "dist/uPlot.min.css", "uplot/uPlot.min.css"),
]
LICENCE_NAMES = ("LICENSE", "LICENSE.txt", "LICENSE.md", "LICENCE")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODULES = os.path.join(ROOT, "scripts", "web-vendor", "node_modules")
VENDOR = os.path.join(ROOT, "web", "vendor")


def package_info(name):
    with open(os.path.join(MODULES, name, "package.json"), encoding="utf-8") as f:
        meta = json.load(f)
    return meta["version"], meta.get("license", "see the package")


def wanted(name, src):
    """(bytes the vendored copy must hold, licence file path or None)."""
    version, licence = package_info(name)
    with open(os.path.join(MODULES, name, src), "rb") as f:
        body = f.read()
    head = (f"/* Vendored from npm {name}@{version} ({licence}) by `make web-vendor`"
            f" (scripts/vendor_web.py): do not edit. */\n").encode()
    lic = next((os.path.join(MODULES, name, n) for n in LICENCE_NAMES
                if os.path.exists(os.path.join(MODULES, name, n))), None)
    return head + body, lic


def main():
    check = "--check" in sys.argv[1:]
    if not os.path.isdir(MODULES):
        sys.exit("scripts/web-vendor/node_modules is missing: run `make web-vendor` "
                 "(it runs npm ci there first)")
    stale = []
    for name, src, dest in FILES:
        data, lic = wanted(name, src)
        out = os.path.join(VENDOR, dest)
        if check:
            try:
                with open(out, "rb") as f:
                    if f.read() != data:
                        stale.append(dest)
            except FileNotFoundError:
                stale.append(dest)
            continue
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with open(out, "wb") as f:
            f.write(data)
        if lic:
            with open(lic, "rb") as f, open(os.path.join(os.path.dirname(out), "LICENSE.txt"), "wb") as g:
                g.write(f.read())
        print(f"web/vendor/{dest}")
    if stale:
        sys.exit("web/vendor differs from the pinned packages: " + ", ".join(stale))


if __name__ == "__main__":
    main()
