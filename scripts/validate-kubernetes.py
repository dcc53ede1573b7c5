#!/usr/bin/env python3
"""Validates every resource of the given Kubernetes manifests against the API's schemas, offline and strictly
(kubernetes-validate bundles the schemas; unknown fields are errors). Exit 0, or 1 naming each failure."""
import sys

import kubernetes_validate
import yaml

VERSION = "1.31.0"


def main(paths):
    failures = 0
    for path in paths:
        with open(path) as file:
            for document in yaml.safe_load_all(file):
                if not document:
                    continue
                name = "%s %s/%s" % (path, document.get("kind"), document.get("metadata", {}).get("name"))
                try:
                    kubernetes_validate.validate(document, VERSION, strict=True)
                    print("valid:", name)
                except kubernetes_validate.ValidationError as error:
                    failures += 1
                    print("INVALID:", name, "-", error.message, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
