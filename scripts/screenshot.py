"""Take the README's pictures of an HTML report with Debian's Chromium (Playwright drives it).

    .venv/bin/python scripts/screenshot.py out/report.html docs/images

Writes `report.png` (the top of the report: verdict and the first findings) and
`report-lineage.png` (the lineage graph) into the folder given. `make screenshot` runs the demo
first. Playwright launches /usr/bin/chromium; it never downloads a browser.
"""

from __future__ import annotations

import sys
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]


def main(report: Path, folder: Path) -> None:
    """Open ``report`` at 1400 x 1000 and save the two pictures into ``folder``."""
    from playwright.sync_api import sync_playwright

    folder.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(report.resolve().as_uri())
        page.screenshot(path=str(folder / "report.png"))
        page.locator("#lineage").screenshot(path=str(folder / "report-lineage.png"))
        browser.close()
    for name in ("report.png", "report-lineage.png"):
        print(f"{folder / name}: written")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: screenshot.py REPORT.html FOLDER")
    main(Path(sys.argv[1]), Path(sys.argv[2]))
