"""A real run's report: report.json's new parts, report.html in a real browser,
``beam-swallow report`` rebuilding it, and ``beam-swallow inspect``.

One small run serves every test here: standard-library files (plus an exact
and a near copy, and broken lines) through read, syntax, lint, exact_dedup and
near_dedup on the FnApiRunner, so the page has rejections, dead letters,
quality scores and a near-duplicate cluster. Chromium (Debian's package, set
up by ``make chromium``) opens report.html from disk.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from beam_swallow.cli import main
from beam_swallow.inference.tokens import load_tokenizer, tokenizer_available
from beam_swallow.samples import code_sample_records
from beam_swallow.testing import read_jsonl_dir

ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
# Marks each image's load state in the DOM, for --dump-dom to carry out.
_MARK_IMAGES = """<script>
window.addEventListener("load", () => {
  for (const img of document.images) {
    img.setAttribute("data-loaded", img.complete && img.naturalWidth > 0 ? "yes" : "no");
  }
  document.body.setAttribute("data-checked", "yes");
});
</script></body>"""


def _near_copy(text: str) -> str:
    lines = text.splitlines(keepends=True)
    return "".join(lines[:-1]) + "# an edited last line\n"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("report")
    records = [r for r in code_sample_records(12, max_bytes=3000) if len(r["text"]) > 800][:6]
    texts = [r["text"] for r in records]
    lines = [
        json.dumps({"text": t, "path": r["path"]}) for t, r in zip(texts, records, strict=True)
    ]
    lines += [
        json.dumps({"text": texts[0], "path": "exact-copy.py"}),
        json.dumps({"text": _near_copy(texts[1]), "path": "near-copy.py"}),
        json.dumps({"text": "print 'python 2'\n", "path": "py2.py"}),
        '{"text": "unterminated',
        "[1, 2]",
    ]
    src = tmp / "in.jsonl"
    src.write_text("\n".join(lines) + "\n")
    out = tmp / "out"
    argv = ["code", "--input", str(src), "--output", str(out), "--quiet"]
    argv += ["--stages", "syntax,lint,exact_dedup,near_dedup", "--min_quality", "0"]
    assert main(argv) == 0
    return out


def _report(out: Path) -> dict:
    return json.loads((out / "report.json").read_text())


def test_report_json_has_tokens_stats_timing_and_run_parameters(run_dir):
    report = _report(run_dir)
    assert report["balanced"]
    stages = report["stages"]
    assert list(stages) == ["read", "syntax", "lint", "exact_dedup", "near_dedup"]
    assert stages["read"]["dead_letter"] == 2
    assert stages["syntax"]["rejected"] == {"syntax_error": 1}
    assert stages["exact_dedup"]["rejected"] == {"exact_duplicate": 1}
    assert stages["near_dedup"]["rejected"] == {"near_duplicate": 1}
    assert report["stats"]["near_dedup"]["cluster_size"] == {"2": 1}
    assert report["stats"]["read"]["error_type"] == {"invalid_json": 1, "not_an_object": 1}
    scored = sum(report["stats"]["lint"]["quality_score"].values())
    assert scored == stages["lint"]["input"]  # every file lint scored is in the histogram
    assert set(report["timing"]["stages"]) >= {"syntax", "lint"}
    assert report["timing"]["stages"]["lint"]["seconds"] > 0
    assert report["run"]["stages"] == list(stages)
    assert report["run"]["versions"]["apache-beam"].startswith("2.77")
    assert report["run"]["settings"]["min_quality"] == 0.0
    if tokenizer_available():
        tokenizer = load_tokenizer()
        assert report["tokenizer"] == tokenizer.name
        kept = read_jsonl_dir(run_dir / "kept")
        assert report["kept_tokens"] == sum(tokenizer.count(r["text"]) for r in kept)
        assert stages["syntax"]["input_tokens"] == stages["read"]["kept_tokens"]
        assert stages["lint"]["kept_tokens"] > stages["near_dedup"]["kept_tokens"]


class _PageReader(HTMLParser):
    """Collects the page's images and its ``data-key`` counts."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str | None]] = []
        self.counts: dict[str, str] = {}
        self.checked = False
        self._key: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs)
        if tag == "body" and attrs.get("data-checked") == "yes":
            self.checked = True
        self._key = attrs.get("data-key")

    def handle_data(self, data):
        if self._key is not None:
            self.counts[self._key] = data.strip()
            self._key = None


def _lookup(report: dict, key: str):
    value = report
    for part in key.split("."):
        value = value[part]
    return value


def _chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: run `make chromium`")
        pytest.skip("chromium is not installed (make chromium)")
    return found


def test_report_html_opens_in_chromium_with_every_image_and_the_json_counts(run_dir, tmp_path):
    chromium = _chromium()
    page = (run_dir / "report.html").read_text()
    assert "<script" not in page  # the page itself runs no script
    checked = run_dir / "report_checked.html"  # beside the page, so image paths resolve
    checked.write_text(page.replace("</body>", _MARK_IMAGES))
    profile = tmp_path / "profile"
    dom = subprocess.run(
        [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            "--virtual-time-budget=10000",
            "--dump-dom",
            checked.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    reader = _PageReader()
    reader.feed(dom)
    assert reader.checked, "the page's load event never ran"
    names = {Path(img["src"]).stem for img in reader.images}
    assert {
        "funnel_records",
        "funnel_tokens" if tokenizer_available() else "funnel_records",
        "rejections",
        "dead_letters",
        "quality_score",
        "lengths",
        "cluster_sizes",
        "stage_times",
    } <= names
    assert [img["src"] for img in reader.images if img.get("data-loaded") != "yes"] == []
    report = _report(run_dir)
    assert len(reader.counts) > 20
    for key, text in reader.counts.items():
        expected = _lookup(report, key)
        shown = float(text.replace(",", ""))
        if isinstance(expected, float):
            assert shown == pytest.approx(expected, abs=0.06), key
        else:
            assert shown == expected, key
    for stage, entry in report["stages"].items():
        assert f"stages.{stage}.kept" in reader.counts
        for reason in entry["rejected"]:
            assert f"stages.{stage}.rejected.{reason}" in reader.counts
    ARTIFACTS.mkdir(exist_ok=True)
    subprocess.run(
        [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'shot'}",
            "--window-size=1100,3800",
            f"--screenshot={ARTIFACTS / 'report.png'}",
            (run_dir / "report.html").as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert (ARTIFACTS / "report.png").stat().st_size > 10_000


def test_report_command_rebuilds_the_page_from_the_outputs(run_dir, capsys):
    before = _report(run_dir)
    (run_dir / "report.html").unlink()
    shutil.rmtree(run_dir / "report_files")
    assert main(["report", str(run_dir)]) == 0
    assert (run_dir / "report.html").exists()
    assert sorted(p.name for p in (run_dir / "report_files").iterdir())
    assert _report(run_dir) == before


def test_inspect_follows_a_duplicate_to_the_stage_that_removed_it(run_dir, capsys):
    rejected = {r["stage"]: r for r in read_jsonl_dir(run_dir / "rejected")}
    copy = rejected["near_dedup"]  # the near copy, or the file it copies: the larger id goes
    assert main(["inspect", str(run_dir), "--id", copy["id"]]) == 0
    out = capsys.readouterr().out
    assert "syntax         passed" in out
    assert "lint           passed  (pylint_score=" in out
    assert "near_dedup     REJECTED: near_duplicate" in out
    assert f"duplicate_of={copy['duplicate_of']}" in out


def test_inspect_shows_a_dead_letter_and_an_unknown_id(run_dir, capsys):
    dead = read_jsonl_dir(run_dir / "dead_letter")
    assert main(["inspect", str(run_dir), "--id", "no-such-id"]) == 1
    # dead letters of the reader have no id (the line never became a record)
    assert all("id" not in d for d in dead)
    kept = read_jsonl_dir(run_dir / "kept")[0]
    assert main(["inspect", str(run_dir), "--id", kept["id"]]) == 0
    out = capsys.readouterr().out
    assert "kept: in kept/" in out and "near_dedup     passed" in out
