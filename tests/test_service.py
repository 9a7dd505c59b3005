"""The HTTP service, tested against a real `bentoml serve` process on 127.0.0.1."""

from __future__ import annotations

import os
import subprocess

import httpx
import numpy as np
import pandas as pd
import pytest

from tests.conftest import BIN, REPO, free_port, running
from tests.disavow_lines import missing_lines, problems_of
from tests.test_hostile import CORPUS, EXPORTS
from toxiclinks.audit import read as read_disavow
from toxiclinks.model import load, score
from toxiclinks.model import write_seed_data as synth_write
from toxiclinks.reading import read_export

FIELDS = ["source_url", "target_url", "anchor", "left_context", "right_context", "nofollow", "ugc",
          "sponsored", "link_type", "in_content", "sitewide", "links_in_group", "source_title",
          "domain_rating", "url_rating", "domain_traffic", "page_traffic", "source_referring_domains",
          "external_links", "linked_domains", "first_seen", "last_seen", "lost", "tool_spam_flag",
          "http_code"]


@pytest.fixture(scope="module")
def service_home(tmp_path_factory):
    """The server's TOXICLINKS_HOME and working folder (its log is server.log there)."""
    return tmp_path_factory.mktemp("svc-home")


@pytest.fixture(scope="module")
def server(service_home, small_model):
    home = service_home
    port = free_port()
    env = {**os.environ, "TOXICLINKS_HOME": str(home), "TOXICLINKS_MAX_BODY_MB": "40"}
    url = f"http://127.0.0.1:{port}"
    with running([str(BIN / "toxiclinks"), "serve", "--model", str(small_model.folder), "--port", str(port)],
                 f"{url}/readyz", env=env, cwd=home):
        yield url


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    links, _, _ = synth_write(tmp_path_factory.mktemp("svc-export"), 1, 200, seed=5)
    return links


def as_json(links: pd.DataFrame) -> list[dict]:
    records = []
    for row in links[FIELDS].astype(object).itertuples(index=False):
        record = {}
        for key, value in zip(FIELDS, row, strict=True):
            if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
                continue
            record[key] = value.isoformat() if isinstance(value, pd.Timestamp) else value
        records.append(record)
    return records


def test_scores_are_identical_to_the_batch_audit(server, export, small_model):
    links = read_export(export).links
    batch = score(load(small_model.folder), links)
    response = httpx.post(f"{server}/score", json={"links": as_json(links)}, timeout=60)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model_name"] == "toxiclinks" and body["model_version"]
    served = pd.DataFrame(body["links"])
    assert len(served) == len(links) and body["rejected"] == []
    assert np.allclose(served["toxicity"].to_numpy(), batch["toxicity"].to_numpy())
    assert list(served["verdict"]) == list(batch["verdict"])
    assert list(served["reasons"].map("; ".join)) == [r for r in batch["reasons"]]


def test_concurrent_requests_of_every_size_give_the_sequential_answers(server, export):
    """One-link requests are answered on the event loop while bigger ones run in a worker thread,
    sharing the model and its caches: the answers must not depend on what runs alongside."""
    from concurrent.futures import ThreadPoolExecutor

    records = as_json(read_export(export).links)
    big = records * 10

    def post(links: list[dict]) -> dict:
        response = httpx.post(f"{server}/score", json={"links": links}, timeout=120)
        assert response.status_code == 200, response.text
        return response.json()

    singles = [[r] for r in records[:40]]
    expected = [post(links) for links in [big, *singles]]
    with ThreadPoolExecutor(6) as pool:
        bigs = [pool.submit(post, big) for _ in range(3)]
        ones = [pool.submit(post, links) for links in singles * 3]
        lives = [pool.submit(httpx.get, f"{server}/livez") for _ in range(10)]
        assert all(f.result() == expected[0] for f in bigs)
        assert [f.result() for f in ones] == expected[1:] * 3
        assert all(f.result().status_code == 200 for f in lives)


def test_single_link_with_only_a_source_url(server):
    body = httpx.post(f"{server}/score", json={"links": [{"source_url": "https://example.org/"}]}).json()
    assert body["links"][0]["verdict"] in {"unknown", "ok", "suspicious", "toxic"}
    assert 0 <= body["links"][0]["toxicity"] <= 100


def test_score_export_upload(server, export):
    with open(export, "rb") as fh:
        response = httpx.post(f"{server}/score_export", files={"file": ("links.csv", fh, "text/csv")}, timeout=60)
    assert response.status_code == 200, response.text
    assert len(response.json()["links"]) == len(read_export(export).links)
    bad = httpx.post(f"{server}/score_export", files={"file": ("x.bin", b"\x00\x01\x02" * 100, "application/octet-stream")})
    assert bad.status_code == 400 and "binary" in bad.json()["error"]
    unknown = httpx.post(f"{server}/score_export", files={"file": ("x.csv", b"foo,bar\n1,2\n", "text/csv")})
    assert unknown.status_code == 400 and "Known formats" in unknown.json()["error"]


def test_disavow_endpoint_keeps_existing_file(server, export):
    links = as_json(read_export(export).links)
    existing = "# uploaded in 2025\ndomain:old-spam.example\nhttps://x.example/a\n"
    response = httpx.post(f"{server}/disavow", json={"links": links, "existing_disavow": existing}, timeout=60)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["disavow"].startswith(existing)
    assert body["kept_entries"] == 2


@pytest.mark.parametrize("payload, field", [
    ({"links": [{}]}, "source_url"),
    ({"links": [{"source_url": 5}]}, "source_url"),
    ({"links": [{"source_url": "https://a.example/", "nofollow": "perhaps"}]}, "nofollow"),
    ({"links": [{"source_url": "https://a.example/", "domain_rating": 500}]}, "domain_rating"),
    ({"links": "not a list"}, "links"),
    ({"links": []}, "links"),
    ({}, "links"),
])
def test_bad_json_gets_400_naming_the_field(server, payload, field):
    response = httpx.post(f"{server}/score", json=payload)
    assert response.status_code == 400
    assert field in response.text


def test_malformed_and_oversized_bodies(server):
    broken = httpx.post(f"{server}/score", content=b'{"links": [', headers={"content-type": "application/json"})
    assert broken.status_code == 400
    no_boundary = httpx.post(f"{server}/score", content=b"x", headers={"content-type": "multipart/form-data"})
    assert no_boundary.status_code == 400
    huge = httpx.post(f"{server}/score", content=b"[" + b" " * (41 * 1024 * 1024) + b"]",
                      headers={"content-type": "application/json"}, timeout=60)
    assert huge.status_code == 413 and "larger than 40 MB" in huge.json()["error"]
    too_many = {"links": [{"source_url": "https://a.example/"}] * 100_001}
    assert httpx.post(f"{server}/score", json=too_many, timeout=120).status_code == 400


def test_hostile_strings_are_data(server):
    hostile = "<script>alert(1)</script>\u202e=cmd|' /C calc'!A0\x00"
    links = [{"source_url": "https://a.example/", "anchor": hostile, "source_title": hostile},
             {"source_url": "javascript:alert(1)"}, {"source_url": "https://" + "a" * 5000 + ".com/"}]
    response = httpx.post(f"{server}/score", json={"links": links})
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        body = response.json()
        assert [r["index"] for r in body["rejected"]] == [1]
    assert httpx.get(f"{server}/readyz").status_code == 200


def test_100k_links_in_one_request(server):
    links = [{"source_url": f"https://site{i % 5000}.example.com/p{i}", "target_url": "https://me.example.org/",
              "anchor": "best casino" if i % 4 == 0 else "Me Example"} for i in range(100_000)]
    response = httpx.post(f"{server}/score", json={"links": links}, timeout=300)
    assert response.status_code == 200
    assert len(response.json()["links"]) == 100_000


def test_health_metrics_and_openapi(server):
    for path in ("/livez", "/readyz", "/healthz"):
        assert httpx.get(f"{server}{path}").status_code == 200
    metrics = httpx.get(f"{server}/metrics").text
    assert "request" in metrics
    spec = httpx.get(f"{server}/docs.json").json()
    assert {"/score", "/score_export", "/disavow"} <= set(spec["paths"])


def test_schemathesis_finds_no_server_errors(server):
    proc = subprocess.run([str(BIN / "schemathesis"), "run", f"{server}/docs.json", "-c", "not_a_server_error",
                           "-n", "25", "--generation-deterministic", "--request-timeout", "60"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:]


def test_bento_builds(tmp_path):
    env = {**os.environ, "BENTOML_HOME": str(tmp_path / "bentoml"), "BENTOML_DO_NOT_TRACK": "True"}
    proc = subprocess.run([str(BIN / "bentoml"), "build", "-f", "serving/bentofile.yaml", "--output", "tag", "."],
                          cwd=REPO, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "toxiclinks:" in proc.stdout
    bentos = list((tmp_path / "bentoml" / "bentos" / "toxiclinks").glob("*/src/models/default/model.joblib"))
    assert bentos, "the bento carries the default model"


def test_serve_refuses_a_bad_model(tmp_path):
    proc = subprocess.run([str(BIN / "toxiclinks"), "serve", "--model", str(tmp_path)], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2 and "no model" in proc.stderr


def test_per_input_caches_are_bounded():
    """The caches keyed by what requests send (hosts, URLs, anchors) must not grow without end in
    a long-running service: each is an LRU with a size limit."""
    from toxiclinks import urls
    from toxiclinks.features import _anchor as anchor

    for cached in (urls.normalize_host, urls.split_host, anchor.pair_codes):
        size = cached.cache_info().maxsize
        assert size is not None and size <= 100_000, cached.__name__


@pytest.mark.parametrize("endpoint", ["/score", "/score_export", "/disavow"])
def test_chunked_bodies_over_the_limit_get_413(server, endpoint):
    """Without a Content-Length the body is counted as it comes; over the limit was an HTTP 500 with a
    traceback in the log, where the same size with a Content-Length got 413."""
    def body():
        yield b'{"links": ['
        for _ in range(41 * 16):
            yield b" " * 65536
        yield b"]}"

    response = httpx.post(f"{server}{endpoint}", content=body(), headers={"content-type": "application/json"},
                          timeout=120)
    assert response.status_code == 413 and "larger than 40 MB" in response.json()["error"]


def test_disavow_endpoint_keeps_lines_whole_and_within_googles_limits(server, tmp_path):
    existing = ("domain:a.example\nhttps://b.example/x\u2028y\nhttps://c.example/x\x85y\n"
                "https://d.example/x\x0cy\nhttps://e.example/x\x1cy\ndomain:https://f.example/path\n")
    response = httpx.post(f"{server}/disavow", json={"existing_disavow": existing}, timeout=60)
    assert response.status_code == 200, response.text
    body = response.json()
    lines = body["disavow"].split("\n")[:-1]
    assert "https://b.example/x" not in lines and "domain:f.example" in lines and body["overflow"] == ""
    assert missing_lines(existing.split("\n")[:-1], lines) == []
    (tmp_path / "d.txt").write_text(body["disavow"], encoding="utf-8")
    assert problems_of(tmp_path / "d.txt") == []
    # An existing file over Google's 100,000 lines: the rest comes back in the overflow field.
    big = [f"domain:s{i}.com" for i in range(110_000)]
    response = httpx.post(f"{server}/disavow", json={"existing_disavow": "\n".join(big) + "\n"}, timeout=120)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["full"].startswith("the disavow file is full") and body["overflow"]
    (tmp_path / "d.txt").write_text(body["disavow"], encoding="utf-8")
    assert problems_of(tmp_path / "d.txt") == []
    assert missing_lines(big, body["disavow"].split("\n"), body["overflow"].split("\n")) == []


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_hostile_exports_through_score_export(server, name):
    """The corpus of tests/test_hostile.py, uploaded: 200 with every row a link or a rejection in its
    place, or 400 saying what is wrong with the uploaded file (never where the server keeps it)."""
    data = (CORPUS / "exports" / name).read_bytes()
    response = httpx.post(f"{server}/score_export", files={"file": (name, data, "application/octet-stream")},
                          timeout=60)
    expected = EXPORTS[name]
    if expected[0] == 2:
        assert response.status_code == 400 and expected[1] in response.json()["error"], response.text
        assert "uploaded file" in response.json()["error"] and "/tmp" not in response.json()["error"]
        return
    assert response.status_code == 200, response.text
    body = response.json()
    assert [link["index"] for link in body["links"]] == expected[1]
    assert [r["index"] for r in body["rejected"]] == expected[2]


@pytest.mark.parametrize("name", sorted(p.name for p in (CORPUS / "disavow").iterdir() if p.suffix == ".txt"))
def test_hostile_disavow_files_through_the_disavow_endpoint(server, tmp_path, name):
    original = [ln.raw for ln in read_disavow(CORPUS / "disavow" / name)[0]]
    response = httpx.post(f"{server}/disavow", json={"existing_disavow": "\n".join(original)}, timeout=60)
    assert response.status_code == 200, response.text
    written = tmp_path / "disavow.txt"
    written.write_text(response.json()["disavow"], encoding="utf-8")
    assert problems_of(written) == []
    assert missing_lines(original, response.json()["disavow"].split("\n")) == []


def test_hostile_requests_to_every_endpoint(server):
    import json

    for case in json.loads((CORPUS / "requests.json").read_text()):
        if "body" in case:
            response = httpx.post(f"{server}{case['path']}", content=case["body"].encode("latin-1"),
                                  headers={"content-type": "application/json"}, timeout=60)
        else:
            response = httpx.post(f"{server}{case['path']}", json=case["json"], timeout=60)
        assert response.status_code in case["status"], (case, response.text)
        assert "error" in response.json() if response.status_code >= 400 else True
        if "rejected" in case:
            assert [r["index"] for r in response.json()["rejected"]] == case["rejected"]


def test_client_errors_are_one_log_line_without_a_traceback(server, service_home):
    """Ordinary 400 and 401/403 answers were logged at ERROR with a traceback. Runs last in this file:
    no request of any test before it may have left a traceback in the log either."""
    assert httpx.post(f"{server}/score", json={"links": [{}]}).status_code == 400
    assert httpx.post(f"{server}/reload", json={}).status_code in (401, 403)
    log = (service_home / "server.log").read_text(errors="replace")
    assert "Traceback" not in log and "[ERROR]" not in log
    assert "Client error on /score [POST]: answered 400" in log
