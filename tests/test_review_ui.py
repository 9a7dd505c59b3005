"""The review page at /ui, as a person uses it: a real `toxiclinks serve` on 127.0.0.1 whose
TOXICLINKS_HOME holds real recorded audits (the sample export, and a hostile one), the system
Chromium driven by Playwright with the keyboard and the mouse, and the page's JSON over plain HTTP.

One server for the module; the browser tests run in file order (labels, then the disavow file they
change, then retraining on them)."""

from __future__ import annotations

import contextlib
import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

from tests.conftest import BIN, REPO, free_port, running
from tests.exports import AHREFS_HEADER, ahrefs_row, write_csv
from toxiclinks.audit import read, recorded, run_audit, validate
from toxiclinks.labels import LabelStore

TOKEN = "review-page-token"
CHROMIUM = Path("/usr/bin/chromium")
SAMPLE = REPO / "data" / "sample" / "ahrefs_sample.csv"
EXISTING = REPO / "data" / "sample" / "existing_disavow.txt"
#: What exports carry in anchors and titles: markup, script, and spreadsheet formulas.
HOSTILE = [
    ("https://xss-anchors.net/a", '<script>alert("anchor")</script>', "</td><img src=x onerror=alert(1)>"),
    ("https://svg-titles.org/b", "<img src=x onerror=alert(2)>", '"><svg onload=alert(3)>'),
    ("https://formula-cells.com/c", '=HYPERLINK("http://evil.example","click me")', "=cmd|' /C calc'!A0"),
    ("https://entity-text.info/d", "&lt;b&gt;not bold&lt;/b&gt; & <b>bold?</b>", "<style>body{display:none}</style>"),
]


@contextlib.contextmanager
def home_of(path: Path):
    """TOXICLINKS_HOME set to ``path`` for this process while the block runs."""
    old = os.environ.get("TOXICLINKS_HOME")
    os.environ["TOXICLINKS_HOME"] = str(path)
    try:
        yield
    finally:
        os.environ["TOXICLINKS_HOME"] = old or ""


@pytest.fixture(scope="module")
def ui_home(tmp_path_factory) -> Path:
    """The server's TOXICLINKS_HOME (history, label store, MLflow store) and working folder."""
    return tmp_path_factory.mktemp("ui-home")


@pytest.fixture(scope="module")
def audits(ui_home, small_model, tmp_path_factory) -> dict[str, dict]:
    """Two real audits recorded in the server's home: the sample export (with the sample's existing
    disavow file) and a hostile export."""
    from toxiclinks.model import load

    folder = tmp_path_factory.mktemp("ui-audits")
    hostile_csv = write_csv(folder / "hostile.csv", AHREFS_HEADER, [
        ahrefs_row(Referring_page_URL=url, Anchor=anchor, Referring_page_title=title) for url, anchor, title in HOSTILE])
    model = load(small_model.folder)
    out = {}
    with home_of(ui_home):
        for name, export in (("sample", SAMPLE), ("hostile", hostile_csv)):
            run_audit([str(export)], folder / name, existing_disavow=str(EXISTING), model=model, progress=False)
            audit = recorded()[0]
            out[name] = {"id": audit.id, "site": audit.site, "out": folder / name}
    return out


@pytest.fixture(scope="module")
def ui_server(ui_home, small_model, audits) -> str:
    port = free_port()
    env = {**os.environ, "TOXICLINKS_HOME": str(ui_home), "TOXICLINKS_API_TOKEN": TOKEN}
    env.pop("MLFLOW_TRACKING_URI", None)
    env.pop("TOXICLINKS_LABELS_DB", None)
    url = f"http://127.0.0.1:{port}"
    with running([str(BIN / "toxiclinks"), "serve", "--model", str(small_model.folder), "--port", str(port)],
                 f"{url}/readyz", env=env, cwd=ui_home):
        yield url


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("the browser tests need the system Chromium at /usr/bin/chromium (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def page(browser, ui_server):
    """One tab for the module's browser tests; every dialog it opens is recorded (and dismissed)."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    tab = context.new_page()
    tab.dialogs = []
    tab.console_errors = []
    tab.on("dialog", lambda d: (tab.dialogs.append(d.message), d.dismiss()))
    tab.on("console", lambda m: tab.console_errors.append(m.text) if m.type == "error" else None)
    tab.set_default_timeout(30_000)
    tab.goto(f"{ui_server}/ui/")
    yield tab
    context.close()


def not_blank(path: Path) -> None:
    """A screenshot shows something: many colours, and pixels far from uniform."""
    from PIL import Image, ImageStat

    with Image.open(path) as image:
        rgb = image.convert("RGB")
        colours = rgb.getcolors(maxcolors=1_000_000) or []
        spread = ImageStat.Stat(rgb.convert("L")).stddev[0]
        size = rgb.size
    assert size[0] >= 800 and size[1] >= 400, size
    assert len(colours) > 50 and spread > 10, f"{path.name} looks blank: {len(colours)} colours, stddev {spread:.1f}"


def sites_of(audit_out: Path) -> pd.DataFrame:
    """The audit's links as it wrote them (links.parquet: URLs, source_site, verdicts)."""
    return pd.read_parquet(audit_out / "links.parquet")


def shot(page, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    not_blank(path)
    return path


# ---- the page, as a reviewer uses it ---------------------------------------------------------


def test_reviewer_marks_sites_with_the_keyboard_and_the_store_keeps_them(page, audits, ui_home, ui_server, tmp_path):
    from playwright.sync_api import expect

    sample = audits["sample"]
    # Before any decision, the page's disavow file is the one the audit wrote, byte for byte: the
    # audit's own section decided again from the same verdicts, every other line as it was.
    untouched = httpx.get(f"{ui_server}/ui/api/audits/{sample['id']}/disavow.txt")
    assert untouched.content == (sample["out"] / "disavow.txt").read_bytes()
    audit_rows = page.locator("#audits tbody tr")
    expect(audit_rows).to_have_count(2)
    expect(audit_rows.nth(0)).to_be_focused()
    # The token, asked once; the keyboard comes back to the row it was on.
    page.click("#token-button")
    page.fill("#token-input", TOKEN)
    page.keyboard.press("Enter")
    expect(page.locator("#token-form")).to_be_hidden()
    shot(page, tmp_path, "audits")
    # Newest first: the hostile audit, then the sample; j moves down, Enter opens.
    expect(audit_rows.nth(0)).to_be_focused()
    page.keyboard.press("j")
    expect(audit_rows.nth(1)).to_be_focused()
    assert audit_rows.nth(1).get_attribute("data-id") == str(sample["id"])
    page.keyboard.press("Enter")
    site_rows = page.locator("#sites tbody tr")
    expect(site_rows.first).to_be_focused()
    expect(page.locator("#audit-summary")).to_contain_text(f"Audit of {sample['site']}")

    # The sites come most risky first.
    worst = [float(t) for t in page.locator("#sites tbody tr td:nth-child(4)").all_inner_texts()]
    assert worst == sorted(worst, reverse=True) and len(worst) == 200
    shown = site_rows.evaluate_all("rows => rows.slice(0, 3).map(r => r.dataset.site)")

    # Three sites judged with the keyboard: toxic, toxic, natural.
    for i, (key, word) in enumerate([("t", "marked toxic"), ("t", "marked toxic"), ("n", "marked natural")]):
        if i:
            page.keyboard.press("j")
        expect(site_rows.nth(i)).to_be_focused()
        page.keyboard.press(key)
        expect(site_rows.nth(i).locator("td").nth(6)).to_contain_text(word)
    # Two more: always allow and always disavow.
    for i, (key, word) in enumerate([("a", "always allow"), ("d", "always disavow")], start=3):
        page.keyboard.press("j")
        expect(site_rows.nth(i)).to_be_focused()
        page.keyboard.press(key)
        expect(site_rows.nth(i).locator("td").nth(6)).to_contain_text(word)
    ruled = site_rows.evaluate_all("rows => rows.slice(3, 5).map(r => r.dataset.site)")
    shot(page, tmp_path, "sites")

    # The store holds one judgment per link of each site, and the link's row for retraining.
    links = sites_of(sample["out"])
    store = LabelStore(ui_home / "labels.sqlite")
    latest = store.latest()
    for site, label in zip(shown, [1, 1, 0], strict=True):
        mine = links[links["source_site"] == site]
        assert len(mine) > 0
        judged = latest.merge(mine[["source_url", "target_url"]], on=["source_url", "target_url"])
        assert len(judged) == len(mine[["source_url", "target_url"]].drop_duplicates()), site
        assert set(judged["label"]) == {label}, site
    kept = store.rows()
    labelled_urls = set(links.loc[links["source_site"].isin(shown), "source_url"])
    assert labelled_urls <= set(kept["source_url"])
    assert kept.loc[kept["source_url"].isin(labelled_urls), "anchor"].notna().all()
    allowed, denied = store.rules()
    assert ruled[0] in allowed and ruled[1] in denied
    assert page.dialogs == []


def test_a_link_is_judged_with_a_click(page, audits, ui_home, tmp_path):
    from playwright.sync_api import expect

    natural_site = page.locator("#sites tbody tr").nth(2)
    site = natural_site.get_attribute("data-site")
    natural_site.click()
    link_rows = page.locator("#links tbody tr")
    expect(page.locator("#links-heading")).to_contain_text(site)
    expect(link_rows.first).to_be_visible()
    first_url = link_rows.first.locator("td").first.locator("a").inner_text()
    link_rows.first.locator("button[data-action=toxic]").click()
    expect(link_rows.first.locator("td").nth(5)).to_contain_text("you: toxic")
    shot(page, tmp_path, "links")
    latest = LabelStore(ui_home / "labels.sqlite").latest()
    assert latest.loc[latest["source_url"] == first_url, "label"].tolist() == [1]


def test_the_downloaded_disavow_file_reflects_the_decisions(page, audits, ui_server, tmp_path):
    from playwright.sync_api import expect

    sample = audits["sample"]
    rows = page.locator("#sites tbody tr")
    toxic_sites, natural_site, allowed, denied = (
        rows.evaluate_all("rows => rows.slice(0, 2).map(r => r.dataset.site)"),
        rows.nth(2).get_attribute("data-site"), rows.nth(3).get_attribute("data-site"),
        rows.nth(4).get_attribute("data-site"))
    page.keyboard.press("2")
    expect(page.locator("#disavow-summary")).to_contain_text("lines")
    shot(page, tmp_path, "disavow")
    with page.expect_download() as download:
        page.click("#download-disavow")
    saved = tmp_path / "disavow.txt"
    download.value.save_as(saved)

    # A file Google accepts (the sample's existing file has one duplicate line: redundant, allowed).
    problems = validate(saved)
    assert all("redundant" in p for p in problems), problems
    lines, file_problems = read(saved)
    assert file_problems == []
    raw = [ln.raw for ln in lines]
    existing = EXISTING.read_text("utf-8").splitlines()
    assert [r for r in raw if r in existing][: len(existing)] == existing  # every line kept, in order
    entries = {ln.value for ln in lines if ln.kind == "domain"}
    urls = {ln.value for ln in lines if ln.kind == "url"}
    links = sites_of(sample["out"])
    for site in [*toxic_sites, denied]:
        site_urls = set(links.loc[links["source_site"] == site, "source_url"])
        assert site in entries or site_urls <= urls, site
    assert natural_site not in entries and allowed not in entries
    assert not set(links.loc[links["source_site"] == allowed, "source_url"]) & urls
    # The one link of the natural site marked toxic by a click is listed alone.
    natural_urls = set(links.loc[links["source_site"] == natural_site, "source_url"])
    assert len(natural_urls & urls) == 1
    # The same file as the page's JSON says, and what the endpoint serves.
    served = httpx.get(f"{ui_server}/ui/api/audits/{sample['id']}/disavow.txt")
    assert served.content == saved.read_bytes()
    assert 'attachment; filename="disavow-audit-' in served.headers["content-disposition"]


def test_retrain_from_the_page_shows_champion_and_challenger(page, ui_server, ui_home, tmp_path):
    from playwright.sync_api import expect

    page.keyboard.press("3")
    page.click("#retrain-run")
    decision = page.locator("#retrain-decision")
    expect(decision).to_be_visible(timeout=420_000)
    shot(page, tmp_path, "retrain")
    job = httpx.get(f"{ui_server}/ui/api/retrain").json()
    assert job["state"] == "done", job
    result = job["result"]
    assert decision.inner_text() == result["decision"]
    assert re.match(r"(promote|keep) \(", result["decision"])
    assert result["user_links"] >= 10
    for metric in result["metrics"]:
        cells = page.locator(f'#retrain-table tr[data-metric="{metric}"] td')
        for column, who in ((1, "champion"), (2, "challenger")):
            value = result["rows"][who][metric]
            assert cells.nth(column).inner_text() == ("–" if value is None else f"{value:.3f}")
    assert result["rows"]["champion"]["user_brier"] is not None and result["rows"]["challenger"]["user_brier"] is not None
    # The champion alias moved only if the gate said so.
    import mlflow

    client = mlflow.MlflowClient(f"sqlite:///{ui_home / 'mlflow.db'}")
    try:
        champion = str(client.get_model_version_by_alias("toxiclinks", "champion").version)
    except mlflow.exceptions.MlflowException:  # no champion alias at all
        champion = None
    if result["promoted"]:
        assert champion == result["challenger_version"]
        gate_ok = result["rows"]["challenger"]["user_brier"] <= result["rows"]["champion"]["user_brier"]
        assert gate_ok
    else:
        assert champion != result["challenger_version"]


def test_a_hostile_export_renders_as_text(page, audits, ui_server, tmp_path):
    from playwright.sync_api import expect

    hostile = audits["hostile"]
    page.click("#back")
    row = page.locator(f'#audits tbody tr[data-id="{hostile["id"]}"]')
    row.click()
    site_rows = page.locator("#sites tbody tr")
    expect(site_rows).to_have_count(len(HOSTILE))
    seen = []
    for i in range(len(HOSTILE)):
        site_rows.nth(i).click()
        expect(page.locator("#links tbody tr").first).to_be_visible()
        expect(page.locator("#links-heading")).to_contain_text(site_rows.nth(i).get_attribute("data-site"))
        seen.append(page.locator("#links tbody").inner_text())
    text = "\n".join(seen)
    for _, anchor, title in HOSTILE:
        assert anchor in text and title in text, (anchor, title)
    shot(page, tmp_path, "hostile")
    # Nothing was injected: no element the data names, no extra script, no dialog, nothing hidden.
    assert page.locator("main img, main svg, main style, main b, body > img").count() == 0
    scripts = page.eval_on_selector_all("script", "els => els.map(e => e.src)")
    assert scripts == [f"{ui_server}/ui/static/app.js"]
    assert page.locator("main").is_visible()
    page.keyboard.press("2")
    expect(page.locator("#disavow-summary")).to_contain_text("lines")
    assert page.locator("#disavow-preview img, #disavow-preview script").count() == 0
    assert page.dialogs == []
    assert not [e for e in page.console_errors if "Content Security Policy" in e], page.console_errors


# ---- the page's JSON over HTTP ---------------------------------------------------------------


def test_the_page_is_served_with_a_strict_policy(ui_server):
    response = httpx.get(f"{ui_server}/ui/")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "default-src 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    html = response.text
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline script"
    assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler"
    assert "http://" not in html and "https://" not in html  # nothing from the network
    for name in ("app.js", "app.css"):
        assert httpx.get(f"{ui_server}/ui/static/{name}").status_code == 200
    js = httpx.get(f"{ui_server}/ui/static/app.js").text
    assert "innerHTML" not in js.replace("never innerHTML", "") and "eval(" not in js
    assert httpx.get(f"{ui_server}/ui", follow_redirects=True).status_code == 200


def test_an_untouched_audit_gives_back_the_file_it_wrote(ui_server, audits):
    hostile = audits["hostile"]
    served = httpx.get(f"{ui_server}/ui/api/audits/{hostile['id']}/disavow.txt")
    assert served.status_code == 200
    assert served.content == (hostile["out"] / "disavow.txt").read_bytes()


def test_writes_need_the_token_and_the_pages_origin(ui_server, audits, ui_home):
    sample = audits["sample"]
    url = f"{ui_server}/ui/api/audits/{sample['id']}/decisions"
    site = httpx.get(f"{ui_server}/ui/api/audits/{sample['id']}/sites?offset=10&limit=1").json()["sites"][0]["site"]
    body = {"site": site, "action": "toxic"}
    before = len(LabelStore(ui_home / "labels.sqlite").history())
    auth = {"authorization": f"Bearer {TOKEN}"}
    assert httpx.post(url, json=body).status_code == 401
    wrong = httpx.post(url, json=body, headers={"authorization": "Bearer nope"})
    assert wrong.status_code == 401 and "token" in wrong.json()["error"]
    foreign = httpx.post(url, json=body, headers={**auth, "origin": "http://evil.example"})
    assert foreign.status_code == 403 and "origin" in foreign.json()["error"]
    cross = httpx.post(url, json=body, headers={**auth, "sec-fetch-site": "cross-site"})
    assert cross.status_code == 403
    null_origin = httpx.post(url, json=body, headers={**auth, "origin": "null"})
    assert null_origin.status_code == 403
    retrain = httpx.post(f"{ui_server}/ui/api/retrain", json={}, headers={**auth, "origin": "http://evil.example"})
    assert retrain.status_code == 403
    assert len(LabelStore(ui_home / "labels.sqlite").history()) == before  # nothing was stored
    same = httpx.post(url, json=body, headers={**auth, "origin": ui_server, "sec-fetch-site": "same-origin"})
    assert same.status_code == 200 and same.json()["site"]["marked_toxic"] == same.json()["site"]["links"]


@pytest.mark.parametrize(("method", "path", "kwargs", "status", "says"), [
    ("post", "decisions", {"content": b'{"site": ', "headers": {"content-type": "application/json"}}, 400, "not valid JSON"),
    ("post", "decisions", {"content": b"[1, 2]", "headers": {"content-type": "application/json"}}, 400, "JSON object"),
    ("post", "decisions", {"content": b"site=x", "headers": {"content-type": "application/x-www-form-urlencoded"}}, 415, "JSON"),
    ("post", "decisions", {"json": {"site": "x.example", "action": "burn"}}, 400, "action must be one of"),
    ("post", "decisions", {"json": {"site": "x.example", "action": "toxic", "colour": 1}}, 400, "unknown field 'colour'"),
    ("post", "decisions", {"json": {"site": "not-in-the-audit.example", "action": "toxic"}}, 404, "has no links from"),
    ("post", "decisions", {"json": {"source_url": "https://nowhere.example/", "action": "allow"}}, 400, "action on a link"),
    ("post", "decisions", {"json": {"source_url": "https://nowhere.example/", "target_url": None, "action": "toxic"}}, 404,
     "has no link from"),
    ("post", "decisions", {"json": {"action": "toxic"}}, 400, "names a site"),
    ("post", "decisions", {"content": b"{" + b" " * 70_000 + b"}", "headers": {"content-type": "application/json"}}, 413,
     "larger than"),
    ("get", "sites?limit=0", {}, 400, "limit must be"),
    ("get", "sites?offset=-1", {}, 400, "offset must be"),
    ("get", "sites?limit=%C2%B2", {}, 400, "limit must be"),
    ("get", "sites?offset=" + "9" * 5000, {}, 400, "offset must be"),
    ("post", "decisions", {"content": b"[" * 20_000, "headers": {"content-type": "application/json"}}, 400, "not valid JSON"),
    ("post", "decisions", {"json": {"site": 42, "action": "toxic"}}, 400, "site must be"),
    ("post", "decisions", {"json": {"site": "x.example", "action": "toxic", "author": ""}}, 400, "author must be"),
    ("get", "links", {}, 400, "site must be"),
    ("get", "links?site=nowhere.example", {}, 404, "has no links from"),
    ("put", "decisions", {}, 405, "POST"),
])
def test_bad_requests_get_a_clear_4xx(ui_server, audits, method, path, kwargs, status, says):
    url = f"{ui_server}/ui/api/audits/{audits['sample']['id']}/{path}"
    headers = {"authorization": f"Bearer {TOKEN}", **kwargs.pop("headers", {})}
    response = httpx.request(method.upper(), url, headers=headers, **kwargs)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert says in response.json()["error"]
    assert "Traceback" not in response.text


@pytest.mark.parametrize("path", ["api/audits/9999", "api/audits/9999/sites", "api/audits/9999/disavow.txt",
                                  "api/audits/abc", "api/nothing", "static/../service.py", "static/secret.txt"])
def test_unknown_audits_and_paths_get_404(ui_server, path):
    response = httpx.get(f"{ui_server}/ui/{path}")
    assert response.status_code == 404, response.text
    assert "error" in response.json()
    unknown = httpx.post(f"{ui_server}/ui/api/audits/9999/decisions", json={"site": "a.example", "action": "toxic"},
                         headers={"authorization": f"Bearer {TOKEN}"})
    assert unknown.status_code == 404 and "no recorded audit" in unknown.json()["error"]


def test_an_audit_whose_outputs_a_later_audit_replaced_says_so(ui_server, audits, ui_home, small_model):
    from toxiclinks.model import load

    hostile = audits["hostile"]
    with home_of(ui_home):
        run_audit([str(SAMPLE)], hostile["out"], model=load(small_model.folder), progress=False, force=True)
    old = f"{ui_server}/ui/api/audits/{hostile['id']}"
    refused = httpx.get(f"{old}/disavow.txt")
    assert refused.status_code == 409 and "later audit" in refused.json()["error"]
    assert httpx.get(f"{old}/sites").status_code == 200  # its links are still there to review
    assert "later audit" in " ".join(httpx.get(old).json()["notes"])


def test_writes_are_refused_when_the_service_has_no_token(small_model, monkeypatch):
    """The service's own token check, in process (the app on an ASGI transport): no
    TOXICLINKS_API_TOKEN, no writes (403)."""
    import anyio

    from toxiclinks.serving._ui import review_app
    from toxiclinks.serving.service import Toxiclinks

    monkeypatch.delenv("TOXICLINKS_API_TOKEN", raising=False)
    monkeypatch.setenv("TOXICLINKS_MODEL", str(small_model.folder))
    service = Toxiclinks.inner()

    async def ask() -> list[httpx.Response]:
        transport = httpx.ASGITransport(review_app(lambda: service))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            return [await client.post("/api/audits/1/decisions", json={"site": "a.example", "action": "toxic"},
                                      headers={"authorization": "Bearer anything"}),
                    await client.post("/api/retrain", json={}),
                    await client.get("/api/state")]

    try:
        # A thread of its own: Playwright's sync API keeps an event loop running on this one.
        with ThreadPoolExecutor(1) as pool:
            decision, retrain, state = pool.submit(anyio.run, ask).result()
    finally:
        service.store.close()
    assert decision.status_code == 403 and "disabled" in decision.json()["error"]
    assert retrain.status_code == 403
    assert state.json()["model_version"] == service.model.version


def test_screenshot_check_catches_a_blank_image(tmp_path):
    from PIL import Image

    blank = tmp_path / "blank.png"
    Image.new("RGB", (1200, 800), "white").save(blank)
    with pytest.raises(AssertionError, match="blank"):
        not_blank(blank)
    noise = tmp_path / "noise.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (800, 1200, 3), dtype=np.uint8)).save(noise)
    not_blank(noise)
