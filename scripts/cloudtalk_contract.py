#!/usr/bin/env python3
"""Writes contracts/specs/cloudtalk/openapi.json: the operations of CloudTalk's published API
spec (v1.7) that the bridge and the sandbox use, with the schemas they reference, reduced to
the facts a contract check needs (paths, methods, parameters, field names, types, required
fields, enums, limits). Descriptions and examples are left out.

    python3 scripts/cloudtalk_contract.py <path to CloudTalk's openapi json>

Add an operation to OPERATIONS when the bridge or the sandbox starts using one.
"""
import json
import sys

OPERATIONS = {
    "/contacts/index.json": ["get"],
    "/contacts/show/{contactId}.json": ["get"],
    "/contacts/add.json": ["put"],
    "/contacts/edit/{contactId}.json": ["post"],
    "/contacts/delete/{contactId}.json": ["delete"],
    "/contacts/addTags/{contactId}.json": ["put"],
    "/contacts/removeTags/{contactId}.json": ["delete"],
    "/notes/index.json": ["get"],
    "/notes/add/{contactId}.json": ["put"],
    "/activity/index.json": ["get"],
    "/activity/add/{contactId}.json": ["put"],
    "/tags/index.json": ["get"],
    "/bulk/contacts.json": ["post"],
    "/calls/index.json": ["get"],
    "/calls/create.json": ["post"],
    "/calls/{callId}": ["get"],
    "/agents/index.json": ["get"],
    "/blacklist/index.json": ["get"],
    "/blacklist/add.json": ["put"],
    "/blacklist/delete/{id}.json": ["delete"],
    "/sms/send.json": ["post"],
    "/numbers/index.json": ["get"],
    "/ai/calls/{callId}/summary": ["get"],
    "/ai/calls/{callId}/transcription": ["get"],
    "/ai/calls/{callId}/smart-notes": ["get"],
    "/ai/calls/{callId}/overall-sentiment": ["get"],
    "/ai/calls/{callId}/topics": ["get"],
    "/cuecards": ["post"],
}

DROPPED = {"description", "example", "examples", "summary", "externalDocs", "x-codeSamples"}


def strip(node):
    if isinstance(node, dict):
        return {k: strip(v) for k, v in node.items() if k not in DROPPED}
    if isinstance(node, list):
        return [strip(v) for v in node]
    return node


def refs(node, found):
    """Collects (kind, name) of every `#/components/<kind>/<name>` reference."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/"):
            parts = ref.split("/")
            found.add((parts[2], parts[3]))
        for v in node.values():
            refs(v, found)
    elif isinstance(node, list):
        for v in node:
            refs(v, found)


def main(path):
    spec = json.load(open(path))
    paths = {}
    for route, methods in OPERATIONS.items():
        item = spec["paths"][route]
        kept = {m: strip(item[m]) for m in methods}
        for m, op in kept.items():
            op.pop("tags", None)
            op.pop("security", None)
        paths[route] = kept
    components = spec["components"]
    needed, queue = set(), set()
    refs(paths, queue)
    while queue:
        item = queue.pop()
        if item in needed:
            continue
        needed.add(item)
        kind, name = item
        refs(components[kind][name], queue)
    out = {
        "openapi": spec["openapi"],
        "info": {
            "title": "CloudTalk API: the operations the bridge and its sandbox use",
            "version": spec["info"]["version"],
        },
        "servers": spec["servers"],
        "paths": paths,
        "components": {
            kind: {n: strip(components[kind][n]) for k, n in sorted(needed) if k == kind}
            for kind in sorted({k for k, _ in needed})
        },
    }
    target = "contracts/specs/cloudtalk/openapi.json"
    with open(target, "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"{target}: {len(paths)} paths, {len(needed)} components")


if __name__ == "__main__":
    main(sys.argv[1])
