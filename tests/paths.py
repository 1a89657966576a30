"""Where the tests find the licensed real sample files: read in place from ../shared, never copied here."""

from pathlib import Path

REAL_SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "real_samples"
DATA = Path(__file__).resolve().parent / "data"  # facts derived for the tests (file lists, id tables)
