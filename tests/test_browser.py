"""The built smoke book in headless Chromium: the index and a chapter load, every figure image
on them decodes, and a screenshot of each is saved (under the session's basetemp, and copied to
$GROK_SCREENSHOTS when set)."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest

from bookfixture import smoke_book
from grokcore.claims.ledger import CLAIMS

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
# Appended to a copy of a page: once everything has loaded, report each image's decode state.
PROBE = """<script>window.addEventListener("load", () => {
  const imgs = [...document.images].map(i => ({src: i.getAttribute("src"), ok: i.complete && i.naturalWidth > 0}));
  document.title = "PROBE" + JSON.stringify(imgs);
});</script>"""


def browser():
    exe = next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)
    if exe is None:
        if os.environ.get("CI") == "true":
            pytest.fail("headless Chromium is required in CI: apt-get install -y chromium")
        pytest.skip("no chromium on PATH (Debian: apt-get install -y chromium); browser test skipped")
    return exe


def chrome(exe, *args):
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180)


@pytest.mark.slow
@pytest.mark.parametrize("page", ["index.html", "book/chapters/intro_grokking.html"])
def test_page_loads_with_every_figure_in_chromium(tmp_path_factory, page):
    exe = browser()
    root, r = smoke_book(tmp_path_factory)
    assert r.returncode == 0, r.stdout[-3000:]
    html = root / "_build" / "html"
    target = html / page
    if page == "index.html":  # Jupyter Book's index redirects to the root page
        target = html / re.search(r'url=([^"]+)"', target.read_text()).group(1)
    probe = target.with_name("_probe_" + target.name)
    probe.write_text(target.read_text().replace("</body>", PROBE + "</body>"))
    dom = chrome(exe, "--virtual-time-budget=15000", "--dump-dom", probe.as_uri()).stdout
    probe.unlink()
    found = re.search(r"<title>PROBE(.*?)</title>", dom, re.S)
    assert found, f"page did not finish loading in Chromium: {dom[:500]}"
    images = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    figures = [i for i in images if "_images/" in (i["src"] or "")]
    if "chapters/" in page:
        assert figures, "the chapter shows no figure"
    assert all(i["ok"] for i in images), [i["src"] for i in images if not i["ok"]]

    shot = root / "screenshots" / (target.stem + ".png")
    shot.parent.mkdir(exist_ok=True)
    chrome(exe, "--window-size=1200,2000", f"--screenshot={shot}", target.as_uri())
    assert shot.exists() and shot.stat().st_size > 10_000
    if os.environ.get("GROK_SCREENSHOTS"):
        os.makedirs(os.environ["GROK_SCREENSHOTS"], exist_ok=True)
        shutil.copy(shot, os.environ["GROK_SCREENSHOTS"])


# Appended to the ledger page: once laid out, report the claims table's width, its container's
# width and whether the page or any ancestor of the table scrolls sideways.
WIDTHS = """<script>window.addEventListener("load", () => {
  const t = document.querySelector("table.grok-ledger");
  const box = t && (t.closest("article") || t.closest("main") || t.parentElement);
  const scrolls = [];
  for (let e = t && t.parentElement; e; e = e.parentElement)
    if (e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== "visible") scrolls.push(e.className || e.tagName);
  const rows = t ? [...t.querySelectorAll("tr.claim")].map(r => r.getBoundingClientRect().height) : [];
  document.title = "WIDTHS" + JSON.stringify(t ? {table: t.getBoundingClientRect().width, box: box.clientWidth,
    page: document.documentElement.scrollWidth, view: window.innerWidth, scrolls, rows: rows.length,
    tallest: Math.max(...rows), details: t.querySelectorAll("details").length} : null);
});</script>"""


@pytest.mark.slow
def test_ledger_fits_the_content_column_at_1366_px(tmp_path_factory):
    exe = browser()
    root, r = smoke_book(tmp_path_factory)
    assert r.returncode == 0, r.stdout[-3000:]
    target = root / "_build" / "html" / "book" / "chapters" / "claims_ledger.html"
    probe = target.with_name("_probe_" + target.name)
    probe.write_text(target.read_text().replace("</body>", WIDTHS + "</body>"))
    dom = chrome(exe, "--window-size=1366,768", "--virtual-time-budget=15000", "--dump-dom", probe.as_uri()).stdout
    probe.unlink()
    found = re.search(r"<title>WIDTHS(.*?)</title>", dom, re.S)
    assert found, f"ledger page did not finish loading in Chromium: {dom[:500]}"
    m = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert m is not None, "no claims table (table.grok-ledger) on the ledger page"
    assert m["table"] <= m["box"] + 1, m          # the table fits its container
    assert m["page"] <= m["view"] and not m["scrolls"], m  # nothing scrolls sideways
    assert m["rows"] == m["details"] == len(CLAIMS), m   # every claim, each with its details
    assert m["tallest"] < 60, m                           # one line per claim until opened
    shot = root / "screenshots" / "ledger_1366.png"
    shot.parent.mkdir(exist_ok=True)
    chrome(exe, "--window-size=1366,768", f"--screenshot={shot}", target.as_uri())
    assert shot.exists() and shot.stat().st_size > 10_000
    if os.environ.get("GROK_SCREENSHOTS"):
        os.makedirs(os.environ["GROK_SCREENSHOTS"], exist_ok=True)
        shutil.copy(shot, os.environ["GROK_SCREENSHOTS"])
