"""Refresh docs/screenshots/ from the browser tests' screenshots (run the browser tests first).

The browser tests write full-size desktop and phone PNGs of every page they visit to build/screenshots/; the
docs keep a small, reduced copy of one per journey step (800 px wide, at most 1,600 px tall, 128 colours),
named in docs/web.md "Screenshots of the journeys". Usage: .venv/bin/python scripts/docs_screenshots.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
PAGES = (
    "home-earner",
    "journey-submission-ready",
    "portfolio-attempt-2-with-feedback",
    "journey-review-task",
    "review-task-pdf-preview",
    "calibration-not-yet",
    "journey-my-badges",
    "journey-badge-valid",
    "journey-verify-forged",
    "journey-admin-reports",
    "journey-admin-suspend-confirm",
    "self-service-checklist",
    "authoring-editor",
    "spanish-badge",
)


def main() -> int:
    out = ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    missing = []
    for name in PAGES:
        source = ROOT / "build" / "screenshots" / f"{name}.desktop.png"
        if not source.exists():
            missing.append(name)
            continue
        image = Image.open(source).convert("RGB")
        height = int(image.height * 800 / image.width)
        image = image.resize((800, height), Image.LANCZOS).crop((0, 0, 800, min(height, 1600)))
        image.quantize(colors=128).save(out / f"{name}.png", optimize=True)
    if missing:
        print("not in build/screenshots (run the browser tests): " + ", ".join(missing), file=sys.stderr)
        return 1
    print(f"{len(PAGES)} screenshots written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
