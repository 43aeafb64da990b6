#!/usr/bin/env python3
"""Counts the crate's public API by kind, from rustdoc's JSON output.

    RUSTC_BOOTSTRAP=1 cargo rustdoc --lib --all-features -- -Z unstable-options --output-format json
    python3 scripts/public-surface.py [target/doc/actix_flask_session.json]

Walks what a user can name, from the crate root: public modules, re-exports (`pub use`,
glob or not), the inherent methods and associated constants of public types, and the
methods of public traits. Items hidden from the docs (`#[doc(hidden)]`) are not in the
JSON and not counted. Each item is counted once (by its id), and attributed to the
`testing` module when the first path that reaches it goes through that module.

functions = free functions + inherent methods + trait methods (declared in the trait);
constants = consts + statics + associated consts (inherent impls and traits).

With `--foreign`, lists the public functions whose signature names a type of another crate
than std (the dependency types in the API).
"""
import json
import sys
from collections import Counter

path = sys.argv[1] if len(sys.argv) > 1 else "target/doc/actix_flask_session.json"
doc = json.load(open(path))
index = doc["index"]
root = doc["root"]

KIND = {
    "function": "functions",
    "constant": "constants",
    "static": "constants",
    "assoc_const": "constants",
    "module": "modules",
    "struct": "types",
    "enum": "types",
    "union": "types",
    "type_alias": "types",
    "trait": "traits",
    "macro": "macros",
}

seen = {}  # id -> (kind, in_testing, path)


def inner_kind(item):
    (kind,) = item["inner"].keys()
    return kind, item["inner"][kind]


def visit(item_id, path, in_testing, via_impl=False):
    item = index.get(str(item_id))
    if item is None:
        return  # an item of another crate (a re-exported dependency item)
    kind, inner = inner_kind(item)
    if kind == "use":
        if inner.get("id") is None:
            return
        target = index.get(str(inner["id"]))
        if target is None:
            return
        if inner.get("is_glob"):
            tkind, tinner = inner_kind(target)
            if tkind == "module":
                for child in tinner["items"]:
                    visit(child, path, in_testing)
            return
        visit(inner["id"], path + [inner["name"]], in_testing)
        return
    if item.get("visibility") not in ("public", "default") and not via_impl:
        return
    if str(item_id) in seen:
        return
    name = item.get("name") or "?"
    here = path if path and path[-1] == name else path + [name]
    in_testing = in_testing or (kind == "module" and name == "testing")
    if kind in KIND:
        seen[str(item_id)] = (KIND[kind], in_testing, "::".join(here))
    if kind == "module":
        for child in inner["items"]:
            visit(child, here, in_testing)
    elif kind in ("struct", "enum", "union"):
        for impl_id in inner.get("impls", []):
            impl = index.get(str(impl_id))
            if impl is None:
                continue
            _, imp = inner_kind(impl)
            if imp.get("trait") is not None or imp.get("is_synthetic") or imp.get("blanket_impl"):
                continue
            for member in imp["items"]:
                m = index.get(str(member))
                if m is not None and m.get("visibility") == "public":
                    visit(member, here, in_testing, via_impl=True)
    elif kind == "trait":
        for member in inner["items"]:
            visit(member, here, in_testing, via_impl=True)


visit(root, [], False)
# The crate root itself is not counted as a module.
seen.pop(str(root), None)

total = Counter(kind for kind, _, _ in seen.values())
outside = Counter(kind for kind, t, _ in seen.values() if not t)
kinds = ["functions", "constants", "modules", "types", "traits", "macros"]
print(f"{'kind':<10} {'all':>5} {'without testing':>16}")
for kind in kinds:
    print(f"{kind:<10} {total[kind]:>5} {outside[kind]:>16}")
if "-v" in sys.argv:
    for kind, t, p in sorted(seen.values(), key=lambda x: (x[0], x[2])):
        print(f"  {kind:<10} {'T' if t else ' '} {p}")

if "--foreign" in sys.argv:
    crates = {int(k): v["name"] for k, v in doc.get("external_crates", {}).items()}
    std = {"std", "core", "alloc"}

    def foreign(node, found):
        if isinstance(node, dict):
            if "id" in node and ("path" in node or "name" in node):
                info = doc["paths"].get(str(node["id"]))
                if info and info["crate_id"] != 0:
                    crate = crates.get(info["crate_id"], "?")
                    if crate not in std:
                        found.add("::".join(info["path"]))
            for value in node.values():
                foreign(value, found)
        elif isinstance(node, list):
            for value in node:
                foreign(value, found)

    print("\nfunctions naming another crate's types:")
    for item_id, (kind, t, p) in sorted(seen.items(), key=lambda x: x[1][2]):
        if kind != "functions":
            continue
        _, inner = inner_kind(index[item_id])
        found = set()
        foreign(inner.get("sig"), found)
        foreign(inner.get("generics"), found)
        if found:
            print(f"  {'T' if t else ' '} {p}: {', '.join(sorted(found))}")
