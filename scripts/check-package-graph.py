#!/usr/bin/env python3
"""Checks that Package.swift tells the truth: every module a target imports is declared as its dependency, and every
declared dependency is imported by the target; that the shipped binary carries no mock; and that the state machines
stay values. (`swift build --explicit-target-dependency-import-check error`
catches the first half at build time; this catches both, without building.)"""
import json, os, re, subprocess, sys

# Products whose modules carry other names, or that bring more than one module.
PRODUCT_MODULES = {"Metrics": {"Metrics", "CoreMetrics"}}
# Modules of the toolchain, never declared.
SYSTEM = {"Foundation", "FoundationEssentials", "Dispatch", "Glibc", "Darwin", "Synchronization", "Testing", "XCTest",
          "_Concurrency", "os", "FoundationNetworking"}

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
description = json.loads(subprocess.run(
    ["swift", "package", "describe", "--type", "json"], cwd=root, check=True, capture_output=True, text=True).stdout)
problems = []
import_pattern = re.compile(r"^(?:@testable\s+|@_spi\(\w+\)\s+)*import\s+(?:struct\s+|enum\s+|class\s+)?(\w+)", re.M)
for target in description["targets"]:
    declared = set(target.get("target_dependencies", []))
    for product in target.get("product_dependencies", []):
        declared |= PRODUCT_MODULES.get(product, {product})
    imported = set()
    for source in target.get("sources", []):
        with open(os.path.join(root, target["path"], source), encoding="utf-8") as file:
            imported |= set(import_pattern.findall(file.read()))
    imported -= SYSTEM
    imported.discard(target["name"])
    for module in sorted(imported - declared):
        problems.append(f"{target['name']}: imports {module} without declaring it")
    for module in sorted(declared - imported):
        # A product bringing several modules counts once one of them is imported.
        owners = [p for p, modules in PRODUCT_MODULES.items() if module in modules]
        if owners and PRODUCT_MODULES[owners[0]] & imported:
            continue
        problems.append(f"{target['name']}: declares {module} but never imports it")
# What the shipped binary must never carry, however indirectly: a mock identity provider has no place in a
# security product's executable (it lives in tenantgate-simulate and the tests).
# The decision core does no I/O of its own: no NIO, HTTP client or JWT library, so it can be reasoned about and
# tested without sockets (Entra's verifier reaches it through a protocol, `BearerTokenVerifying`).
IO_LIBRARIES = {"NIOCore", "NIOPosix", "NIOHTTP1", "NIOSSL", "NIOEmbedded", "NIOConcurrencyHelpers", "AsyncHTTPClient",
                "JWTKit", "EntraAuth"}
NEVER_IN = {
    "tenantgate": {"MockSTS", "LoopbackSimulation"},
    "ExchangePolicy": IO_LIBRARIES,
    "PolicyService": IO_LIBRARIES,
}
by_name = {target["name"]: target for target in description["targets"]}
for name, forbidden in NEVER_IN.items():
    reached, pending = set(), [name]
    while pending:
        target = by_name[pending.pop()]
        reached |= set(target.get("product_dependencies", []))
        for dependency in target.get("target_dependencies", []):
            if dependency not in reached:
                reached.add(dependency)
                pending.append(dependency)
    for module in sorted(reached & forbidden):
        problems.append(f"{name}: depends on {module}, which must stay out of it")
# Fuzz/Package.swift compiles some of these targets again from the same sources (symlinked): each must declare the
# same dependencies there, or the fuzz build only fails at link time.
fuzz = json.loads(subprocess.run(
    ["swift", "package", "describe", "--type", "json"], cwd=os.path.join(root, "Fuzz"), check=True,
    capture_output=True, text=True).stdout)
for target in fuzz["targets"]:
    original = by_name.get(target["name"])
    if original is None or not os.path.islink(os.path.join(root, "Fuzz", target["path"])):
        continue
    def dependencies(t):
        return set(t.get("target_dependencies", [])) | set(t.get("product_dependencies", []))
    if dependencies(target) != dependencies(original):
        problems.append(f"Fuzz/Package.swift: {target['name']} declares {sorted(dependencies(target))}, the root "
                        f"package {sorted(dependencies(original))}")
# The state machines are values: time and IDs come in with their events (`EventStamp`), the enforcement mode is the
# decider's to read, and each file stays small enough to hold in one's head.
machines = os.path.join(root, "Sources", "ProxyServer", "State Machines")
impure = re.compile(r"\bDate\(\)|\.now\(\)|\.random\(\)|\bUUID\(\)|\bEnforcementMode\b|\.mode\b")
for name in sorted(os.listdir(machines)):
    with open(os.path.join(machines, name), encoding="utf-8") as file:
        lines = file.read().split("\n")
    if len(lines) > 301:
        problems.append(f"State Machines/{name}: {len(lines) - 1} lines, over 300")
    for number, line in enumerate(lines, 1):
        code = line.split("//")[0]
        if impure.search(code):
            problems.append(f"State Machines/{name}:{number}: reads a clock, draws an ID or reads the mode")
for problem in problems:
    print(problem)
sys.exit(1 if problems else 0)
