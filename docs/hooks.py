"""MkDocs hooks of the documentation site: what is generated from the code at build time.

- KaTeX (npm package katex, sha256 checked) is fetched once into .cache/katex and served from the
  site, so math renders offline;
- the notebooks in notebooks/ become pages (mkdocs-jupyter executes them);
- the gallery: each built-in example's HTML explanation, as `chainrule explain NAME --format html` writes it;
- markers in pages are replaced by what the code says today:
  ``<!-- chainrule: help -->`` every command's --help, ``<!-- chainrule: api -->`` the reference of
  every name in ``chainrule.__all__``, ``<!-- chainrule: explain NAME ARGS… -->`` an explanation in
  Markdown (its math rendered by KaTeX).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
from pathlib import Path

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files, InclusionLevel

import chainrule
from chainrule.cli import main as chainrule_main
from chainrule.datasets.mnist import download, unpack

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"

KATEX_VERSION = "0.19.1"
KATEX_URL = f"https://registry.npmjs.org/katex/-/katex-{KATEX_VERSION}.tgz"
KATEX_SHA256 = "24da5a599eb2fcede2e270b99a6ff48bca816beecc95feeb84e8cccbd1bb34fd"
KATEX_FONTS = ["AMS-Regular", "Caligraphic-Bold", "Caligraphic-Regular", "Fraktur-Bold", "Fraktur-Regular",
               "Main-Bold", "Main-BoldItalic", "Main-Italic", "Main-Regular", "Math-BoldItalic", "Math-Italic",
               "SansSerif-Bold", "SansSerif-Italic", "SansSerif-Regular", "Script-Regular", "Size1-Regular",
               "Size2-Regular", "Size3-Regular", "Size4-Regular", "Typewriter-Regular"]
KATEX_FILES = ["katex.min.js", "katex.min.css", "contrib/auto-render.min.js",
               *(f"fonts/KaTeX_{font}.woff2" for font in KATEX_FONTS)]


def katex_directory() -> Path:
    """.cache/katex-VERSION, fetched from the npm registry when missing (the archive's sha256 checked)."""
    cache = ROOT / ".cache"
    target = cache / f"katex-{KATEX_VERSION}"
    if not all((target / name).is_file() for name in KATEX_FILES):
        cache.mkdir(exist_ok=True)
        archive = cache / f"katex-{KATEX_VERSION}.tgz"
        download(os.environ.get("CHAINRULE_KATEX_URL") or KATEX_URL, archive, KATEX_SHA256, "KaTeX")
        unpack(archive, target, {f"package/dist/{name}": name for name in KATEX_FILES}, "KaTeX")
    return target


def examples() -> dict[str, str]:
    """name → summary of every built-in example, as `chainrule examples` lists them."""
    return dict(line.split(None, 1) for line in run_cli("examples").splitlines())   # type: ignore[misc]


def lists_apart(text: str) -> str:
    """A blank line before a list that follows a paragraph line, as Python-Markdown needs (GitHub does not)."""
    return re.sub(r"^(?![-\s])(.+)\n- ", r"\1\n\n- ", text, flags=re.M)


def run_cli(*argv: str) -> str:
    """What `chainrule ARGV` prints, run in this process (help at 100 columns)."""
    out = io.StringIO()
    os.environ["COLUMNS"] = "100"
    with contextlib.redirect_stdout(out):
        code = chainrule_main(list(argv), out=out)
    if code != 0:
        raise RuntimeError(f"chainrule {' '.join(argv)} exited with {code}")
    return out.getvalue()


@event_priority(100)   # before mkdocs-jupyter's on_files, which turns .ipynb files into notebook pages
def on_files(files: Files, config) -> Files:
    katex = katex_directory()
    for name in KATEX_FILES:
        files.append(File.generated(config, f"assets/katex/{name}", abs_src_path=str(katex / name)))
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        # a file of the repository outside docs/ (mkdocs-jupyter's wrapper loses a generated file's path)
        files.append(File(f"notebooks/{path.name}", str(ROOT), config["site_dir"], config["use_directory_urls"]))
    gallery = examples()
    for name in gallery:
        files.append(File.generated(config, f"gallery/{name}.html",
                                    content=run_cli("explain", name, "--format", "html", "--colour", "never")))
        files.append(File.generated(config, f"gallery/{name}.md", content=gallery_page(name, gallery[name]),
                                    inclusion=InclusionLevel.NOT_IN_NAV))   # linked from the gallery's index
    files.append(File.generated(config, "gallery/index.md", content=gallery_index(gallery)))
    return files


def gallery_index(gallery: dict[str, str]) -> str:
    rows = "\n".join(f"| [{name}]({name}.md) | {summary} |" for name, summary in gallery.items())
    return f"""# Explanation gallery

Each built-in example's first step, explained as `chainrule explain NAME --format html` writes it: the
network drawn with every value on its neurons and edges, then the derivation of every number in
MathML. The pages are generated from the code when this site is built.

| example | what it is |
| --- | --- |
{rows}
"""


def gallery_page(name: str, summary: str) -> str:
    return f"""# {name}

{summary} `chainrule explain {name} --format html > {name}.html` writes the page below
([open it on its own]({name}.html){{: target=_blank }}); `chainrule spec {name}` its spec file.

<iframe class="explanation" src="../{name}.html" title="The explanation of {name}'s first step" loading="lazy"></iframe>
"""


MARKER = re.compile(r"<!-- chainrule: (\w+)(.*?) -->")


def on_page_markdown(markdown: str, page, config, files) -> str:
    return MARKER.sub(lambda match: expand(match.group(1), shlex.split(match.group(2))), markdown)


def expand(kind: str, args: list[str]) -> str:
    if kind == "help":
        commands = re.search(r"\{([a-z,]+)\}", run_cli("--help")).group(1).split(",")  # type: ignore[union-attr]
        blocks = [f"```text\n$ chainrule --help\n{run_cli('--help')}```"]
        blocks += [f"### chainrule {command}\n\n```text\n{run_cli(command, '--help')}```" for command in commands]
        return "\n\n".join(blocks)
    if kind == "api":
        names = [name for name in chainrule.__all__ if not name.startswith("_")]
        return "\n\n".join(f"::: chainrule.{name}" for name in names)
    if kind == "explain":
        text = lists_apart(run_cli("explain", *args, "--format", "markdown"))
        return re.sub(r"^(#+) ", lambda m: "#" * min(len(m.group(1)) + 2, 6) + " ", text, flags=re.M)
    raise ValueError(f"docs: unknown marker chainrule: {kind}")


NOTEBOOK_SCRIPTS = re.compile(   # what mkdocs-jupyter's template adds: MathJax's loader and configuration,
    r'<script[^>]*src="(?:https?://[^"]*mathjax[^"]*)?"[^>]*>\s*</script>'       # and mermaid from a CDN
    r'|<script type="text/x-mathjax-config">.*?</script>'
    r'|<script type="module">(?:(?!</script>).)*https://cdnjs\.cloudflare\.com(?:(?!</script>).)*</script>',
    re.S | re.I)


def on_post_page(output: str, page, config) -> str:
    """Notebook pages would load MathJax (and mermaid, for diagrams they do not have) from CDNs; KaTeX
    renders their math here, from the site, so those scripts are dropped: the site works offline."""
    return NOTEBOOK_SCRIPTS.sub("", output)
