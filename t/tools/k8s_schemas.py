#!/usr/bin/env python3
# k8s_schemas.py OUT [VERSION]: the JSON schemas that PyPI's
# kubernetes-validate ships for one Kubernetes version (its "strict"
# ones: no unknown fields), written into OUT so that kubeconform
# validates against them offline:
#
#     kubeconform -strict \
#         -schema-location 'OUT/{{ .ResourceKind }}{{ .KindSuffix }}.json'
#
# The file names are already kubeconform's ("deployment-apps-v1.json":
# the kind in lower case, then "-" and the API group's first word and
# the version, "-v1" alone for the core group).  What is rewritten:
# each schema's "$id" (https://kubernetes.io/api/...) is dropped and
# each "$ref" to "/api/_definitions.json#..." made relative,
# "_definitions.json#...", so that a reference resolves to the file
# beside it, never to a URL.  Prints OUT and the number of files; exits
# 1 when the version is not shipped.
import json
import os
import sys

import kubernetes_validate

REF = "/api/_definitions.json"


def rewrite(node):
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            # only the keywords: a property may be named "$id" or "$ref"
            if k == "$id" and isinstance(v, str):
                continue
            if k == "$ref" and isinstance(v, str):
                if v.startswith(REF):
                    v = "_definitions.json" + v[len(REF):]
                elif v.startswith("/") or "://" in v:
                    raise ValueError("unexpected $ref %r" % v)
            out[k] = rewrite(v)
        return out
    if isinstance(node, list):
        return [rewrite(v) for v in node]
    return node


def main():
    if len(sys.argv) not in (2, 3):
        print("usage: k8s_schemas.py OUT [VERSION]", file=sys.stderr)
        return 2

    out = sys.argv[1]
    base = os.path.join(os.path.dirname(kubernetes_validate.__file__),
                        "kubernetes-json-schema")
    version = sys.argv[2] if len(sys.argv) == 3 else None
    if version is None:
        # the newest shipped: "v1.37.0-local-strict" -> 1.37.0
        versions = [d[1:-len("-local-strict")] for d in os.listdir(base)
                    if d.endswith("-local-strict")]
        version = max(versions, key=lambda v: [int(p) for p in v.split(".")])

    src = os.path.join(base, "v%s-local-strict" % version)
    if not os.path.isdir(src):
        print("kubernetes-validate has no schemas for %s" % version,
              file=sys.stderr)
        return 1

    os.makedirs(out, exist_ok=True)
    n = 0
    for name in sorted(os.listdir(src)):
        if not name.endswith(".json"):
            continue
        with open(os.path.join(src, name)) as f:
            schema = json.load(f)
        tmp = os.path.join(out, "." + name + ".tmp")
        with open(tmp, "w") as f:
            json.dump(rewrite(schema), f)
        os.replace(tmp, os.path.join(out, name))
        n += 1

    print(out, version, n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
