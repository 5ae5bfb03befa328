#!/usr/bin/env python3
"""Markdown tables of two models' dev answer accuracy (docs/models.md, "Dev accuracy per task").

Input: the JSON of `tenx train --recipe R --dev-eval MODEL --dev-items 100000 --json` for the
baseline and for the compact model (same recipe data block, so the same dev items).

    python3 scripts/dev_accuracy_table.py baseline-dev.json compact-dev.json
"""
import json
import sys


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    base, comp = (json.load(open(p)) for p in sys.argv[1:])
    ctasks = {(t["suite"], t["task"]): t for t in comp["tasks"]}
    print("| suite / task | type | dev items | baseline | compact | chance | suite.json references (test split) |")
    print("| --- | --- | ---: | ---: | ---: | ---: | --- |")
    for t in base["tasks"]:
        c = ctasks[(t["suite"], t["task"])]
        if c["items"] != t["items"]:
            raise SystemExit(f"{t['suite']}/{t['task']}: {t['items']} vs {c['items']} dev items")
        refs = ", ".join(f"{k} {v:.3f}" for k, v in t["references"].items())
        print(f"| {t['suite']}/{t['task']} | {t['type']} | {t['items']} | {t['correct']}/{t['items']} = "
              f"{t['accuracy']:.2f} | {c['correct']}/{c['items']} = {c['accuracy']:.2f} | {t['chance']:.3f} | {refs} |")
    print()
    csuites = {s["suite"]: s for s in comp["suites"]}
    print("| suite | dev items | baseline | compact | chance (item mean) | baseline − chance | z, baseline | z, compact |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for s in base["suites"]:
        c = csuites[s["suite"]]
        z = lambda v: v if isinstance(v, str) else f"{v:.1f}"
        print(f"| {s['suite']} | {s['items']} | {s['accuracy']:.3f} | {c['accuracy']:.3f} | {s['chance']:.3f} | "
              f"{100 * (s['accuracy'] - s['chance']):+.1f} points | {z(s['z'])} | {z(c['z'])} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
