"""The documentation site (`make docs`) builds with warnings as errors, and what was seen in Chromium stays
so: every page of the nav is there, the notebooks' pages carry their outputs (text and figures), KaTeX
renders the math from the site itself (no request leaves the machine), every internal link and asset
resolves, the gallery holds each example's explanation, and a phone-width page does not scroll sideways."""

import functools
import http.server
import os
import re
import socketserver
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).parent.parent
NAV_PAGES = ["", "getting-started/", "tour/", "spec-files/", "cli/", "python/", "explanations/", "checking/",
             "mistakes/", "web/", "models/", "api/", "performance/", "reliability/", "architecture/", "changelog/",
             "gallery/"]
NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """`mkdocs build --strict` (what `make docs` runs) into a temporary directory."""
    pytest.importorskip("mkdocs_jupyter", reason="the docs extra: make test installs it")
    out = tmp_path_factory.mktemp("site")
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}   # the kernel's inline figures
    env["NO_MKDOCS_2_WARNING"] = "1"
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stderr[-4000:]}"
    return out


def html_files(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def test_every_page_of_the_nav_and_every_notebook_and_example_is_built(site):
    for page in NAV_PAGES + [f"notebooks/{name}/" for name in NOTEBOOKS]:
        assert (site / page / "index.html").is_file(), f"{page} was not built"
    examples = re.findall(r'<a href="([\w-]+)/">\1</a>', (site / "gallery" / "index.html").read_text())
    assert {"mazur", "xor", "softplus"} <= set(examples)
    for name in examples:
        explanation = (site / "gallery" / f"{name}.html").read_text()
        assert explanation.count("<math") > 10 and "<svg" in explanation, f"gallery/{name}.html is no explanation"
        assert f'src="../{name}.html"' in (site / "gallery" / name / "index.html").read_text()


def test_notebook_pages_carry_their_outputs(site):
    for name in NOTEBOOKS:
        page = (site / "notebooks" / name / "index.html").read_text()
        outputs = re.findall(r'<div class="[^"]*\bjp-OutputArea-output\b[^"]*" data-mime-type=', page)
        assert len(outputs) >= 3, f"{name}: {len(outputs)} output cells"
        assert "data:image/png;base64," in page, f"{name}: no figure among its outputs"
        assert "Traceback" not in page and "jp-OutputArea-error" not in page


def test_no_page_loads_anything_from_another_host(site):
    external = re.compile(r'<(?:script|img|iframe)\b[^>]*\bsrc="(?:https?:)?//|<link\b[^>]*rel="stylesheet"[^>]*href="(?:https?:)?//')
    for path in html_files(site):
        text = path.read_text()
        assert not external.search(text), f"{path.relative_to(site)} loads from another host: {external.search(text)}"
        assert "cdn.jsdelivr" not in text and "cdnjs" not in text and "fonts.googleapis" not in text, path


def test_every_internal_link_and_asset_resolves(site):
    reference = re.compile(r'\b(?:href|src)="([^"#?]+)(?:[#?][^"]*)?"')
    broken = []
    for path in html_files(site):
        if path.name == "404.html":   # served at any depth, so its links are absolute under site_url
            continue
        for target in reference.findall(path.read_text()):
            if urlsplit(target).scheme or target.startswith(("//", "mailto:", "data:")):
                continue
            resolved = (path.parent / unquote(target)).resolve()
            if resolved.is_dir():
                resolved = resolved / "index.html"
            if not resolved.exists():
                broken.append(f"{path.relative_to(site)} → {target}")
    assert broken == [], f"{len(broken)} broken: {broken[:10]}"


@pytest.fixture(scope="module")
def served(site):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        yield f"http://127.0.0.1:{server.server_address[1]}"
        server.shutdown()


def open_page(browser, served, path, width, requests):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{served}/{path}", wait_until="networkidle")
    return context, page


MEASURE = """() => ({katex: document.querySelectorAll('.katex').length,
                    errors: document.querySelectorAll('.katex-error').length,
                    outputs: document.querySelectorAll('.jp-OutputArea-output').length,
                    figures: [...document.querySelectorAll('.jp-OutputArea-output img')].filter(i => i.naturalWidth > 100).length,
                    docs: document.querySelectorAll('.doc-heading').length,
                    wide: document.documentElement.scrollWidth - innerWidth})"""


@pytest.mark.parametrize("width", [1280, 390], ids=["desktop", "phone"])
@pytest.mark.parametrize("path, expect", [
    ("", {"katex": 1}),
    ("explanations/", {"katex": 10}),
    ("notebooks/000-mazur-step/", {"katex": 5, "outputs": 5, "figures": 1}),
    ("notebooks/003-xor/", {"outputs": 5, "figures": 2}),
    ("api/", {"docs": 30}),
    ("gallery/mazur/", {}),
])
def test_pages_in_chromium_render_math_and_outputs_offline(browser, served, path, expect, width):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    requests: list[str] = []
    context, page = open_page(browser, served, path, width, requests)
    try:
        # KaTeX typesets after the load, by script: wait (up to 15 s, a loaded machine) for what should come
        wanted = " && ".join(f"m.{key} >= {least}" for key, least in expect.items()) or "true"
        try:
            page.wait_for_function(f"(() => {{ const m = ({MEASURE})(); return {wanted}; }})", timeout=15_000)
        except PlaywrightTimeout:
            pass                                # the assertions below say what is missing
        seen = page.evaluate(MEASURE)
        for key, least in expect.items():
            assert seen[key] >= least, f"{path} at {width} px: {key} = {seen[key]}, expected at least {least}"
        assert seen["errors"] == 0, f"{path}: KaTeX could not render {seen['errors']} formulas"
        assert seen["wide"] <= 0, f"{path} at {width} px scrolls sideways by {seen['wide']} px"
        if path.startswith("gallery/"):
            frame = page.frame_locator("iframe.explanation")
            assert frame.locator("math").count() > 10 and frame.locator("svg").count() >= 1
        assert [url for url in requests if not url.startswith((served, "data:"))] == []
    finally:
        context.close()
