import pytest

import chainrule as cr


def printed(value: float, text: str) -> None:
    """Assert ``value`` equals the number ``text`` to the digits printed (half a unit of the last digit)."""
    decimals = len(text.split(".")[1]) if "." in text else 0
    assert abs(value - float(text)) <= 0.5 * 10 ** -decimals + 1e-15, f"{value!r} is not {text} to {decimals} decimals"


def first_step(name: str):
    spec = cr.load(name)
    x, t = spec.require_data()
    return cr.trace_steps(spec.build_network(), x, t, spec.training, 1)[0]


@pytest.fixture
def mazur_step():
    return first_step("mazur")


CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (installed by `make test`)."""
    import shutil
    from playwright.sync_api import sync_playwright
    executable = shutil.which("chromium")
    assert executable, "chromium is missing: `make test` installs it (apt-get install chromium)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()
