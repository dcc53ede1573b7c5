"""Writes a policy set shaped like a service provider's: TENANTS governed tenants, each a Power Platform
tenantIsolationPolicy document (JSON as the API returns it) with RULES allowed tenants, deterministic from SEED.

Used by scripts/policy-scale; run alone: python3 scripts/policy_scale_set.py DIR TENANTS RULES [SEED]."""

import json
import os
import random
import sys
import uuid


def tenant_id(rng):
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def document(tenant, rules, rng, governed):
    allowed = []
    named = set()
    for index in range(rules):
        # A fifth of the rules name other governed tenants, the rest partners outside the set.
        other = governed[rng.randrange(len(governed))] if index % 5 == 0 else tenant_id(rng)
        while other == tenant or other in named:
            other = tenant_id(rng)
        named.add(other)
        inbound, outbound = [(True, True), (True, False), (False, True)][index % 3]
        allowed.append(
            {
                "tenantId": other,
                "tenantDisplayName": f"Partner {index}",
                "direction": {"inbound": inbound, "outbound": outbound},
            }
        )
    return {
        "properties": {"tenantId": tenant, "isDisabled": False, "allowedTenants": allowed},
        "id": f"/providers/PowerPlatform.Governance/v1/tenants/{tenant}/tenantIsolationPolicy",
        "name": tenant,
        "type": "Microsoft.PowerPlatform/tenantIsolationPolicy",
    }


def render(doc):
    """The document as JSON with one rule per line, as an API answer reads once pretty-printed by rule."""
    properties = doc["properties"]
    rules = ",\n".join("    " + json.dumps(rule, separators=(",", ":")) for rule in properties["allowedTenants"])
    head = {key: value for key, value in doc.items() if key != "properties"}
    return (
        '{\n  "properties": {\n'
        + f'    "tenantId": "{properties["tenantId"]}",\n'
        + f'    "isDisabled": {json.dumps(properties["isDisabled"])},\n'
        + '    "allowedTenants": [\n'
        + rules
        + "\n  ]},\n"
        + ",\n".join(f"  {json.dumps(key)}: {json.dumps(value)}" for key, value in head.items())
        + "\n}\n"
    )


def write(directory, tenants, rules, seed=29):
    rng = random.Random(seed)
    governed = [tenant_id(rng) for _ in range(tenants)]
    os.makedirs(directory, exist_ok=True)
    total = 0
    for tenant in governed:
        doc = document(tenant, rules, rng, governed)
        total += len(doc["properties"]["allowedTenants"])
        with open(os.path.join(directory, f"{tenant}.json"), "w") as out:
            out.write(render(doc))
    return governed, total


if __name__ == "__main__":
    directory, tenants, rules = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else 29
    governed, total = write(directory, tenants, rules, seed)
    print(f"{len(governed)} tenants, {total} rules in {directory}")
