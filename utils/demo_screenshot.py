"""A screenshot of the Gradio demo (`skeleton_models.demo`) showing a result, taken in headless Chromium: the
README's ``figures/demo.png``.

    python utils/demo_screenshot.py                          # HGLNet-small, trained 3 epochs on the synthetic benchmark
    python utils/demo_screenshot.py --model quickstart-output --output figures/demo.png

The browser opens the demo, uploads a test-split recording of the synthetic benchmark (a ``.npy`` clip), presses
Classify, waits for the top-k label and the animation and saves the page. Without ``--model`` the checkpoint is
trained by the quickstart recipe (`run_quickstart`) for ``--epochs`` epochs in a temporary folder (the README's figure:
3 epochs, 3.2 min on the 2-core development machine while another test run shared it; the recording's class gets 95 %).

Needs the ``demo`` extra, the ``playwright`` Python package (``pip install playwright``; it drives the system's
Chromium, so never ``playwright install``) and Chromium (Debian: ``apt-get install chromium``, ``/usr/bin/chromium``).
Chromium runs with background networking, component updates and sync off: without network it would otherwise wait on
those connections.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported: no telemetry, no version check

import numpy as np  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from skeleton_models.data import synthetic  # noqa: E402
from skeleton_models.demo import build_demo  # noqa: E402
from skeleton_models.training.quickstart import run_quickstart  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def classify_in_browser(
    url: str, upload: str | os.PathLike, screenshot: str | os.PathLike | None = None, timeout_s: float = 120
) -> dict:
    """Upload a file to the demo at `url` in headless Chromium and press Classify, as a user would.

    Returns what the page shows: ``{"label": the top class, "confidences": [(class, score), ...] of the bars,
    "animation": the animation's URL}``, or ``{"error": the error message}`` when the page shows an error. With
    `screenshot`, the page is saved there as a PNG once the result (and the animation's first frame) is shown.
    """
    timeout_ms = timeout_s * 1000
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 720})
            page.goto(url, timeout=timeout_ms)
            page.set_input_files("#upload input[type=file]", str(upload), timeout=timeout_ms)
            page.get_by_role("button", name="Classify").click(timeout=timeout_ms)
            result = page.locator("#actions [data-testid=label-output-value], [data-testid=toast-text]").first
            result.wait_for(timeout=timeout_ms)
            if page.locator("[data-testid=toast-text]").count():
                return {"error": page.locator("[data-testid=toast-text]").first.inner_text()}
            page.wait_for_function(
                "() => document.querySelector('#skeleton img')?.naturalWidth > 0", timeout=timeout_ms
            )
            meters = page.locator("#actions meter")
            shown = {
                "label": result.inner_text(),
                "confidences": [
                    (meter.get_attribute("aria-label"), float(meter.get_attribute("value"))) for meter in meters.all()
                ],
                "animation": page.locator("#skeleton img").get_attribute("src"),
            }
            if screenshot is not None:
                page.screenshot(path=str(screenshot))
            return shown
        finally:
            browser.close()


def benchmark_clip(folder: Path, action: str) -> Path:
    """A recording of the synthetic benchmark's test split (xsub: even subjects) as ``<sample id>.npy``."""
    row = synthetic.generate_example(
        synthetic.CLASS_NAMES.index(action), subject=2, replication=1, camera=1, num_subjects=10, seed=0
    )
    path = folder / f"{row['sample_id']}.npy"
    np.save(path, row["skeleton"])
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="a checkpoint folder or Hub id (default: train HGLNet-small briefly)")
    parser.add_argument("--epochs", type=float, default=3, help="quickstart epochs when no --model is given")
    parser.add_argument("--action", default="handshake", choices=synthetic.CLASS_NAMES, help="the uploaded clip's")
    parser.add_argument("--output", default=str(ROOT / "figures" / "demo.png"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="demo-screenshot-") as tmp:
        work = Path(tmp)
        model = args.model
        if model is None:
            model = str(work / f"hglnet-small-synthetic-{args.epochs:g}-epoch")
            run_quickstart(output_dir=model, model="hglnet", epochs=args.epochs, cache_dir=str(work / "cache"))
        clip = benchmark_clip(work, args.action)
        demo = build_demo(model)
        demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)
        try:
            shown = classify_in_browser(demo.local_url, clip, screenshot=args.output)
        finally:
            demo.close()
    if "error" in shown:
        print(f"the demo showed an error for {clip.name}: {shown['error']}", file=sys.stderr)
        return 1
    scores = ", ".join(f"{label} {score:.2f}" for label, score in shown["confidences"])
    print(f"{args.output}: {clip.name} ({args.action}) -> {scores}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
