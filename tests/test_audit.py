"""The audit end to end: every output, every input row accounted for, safe files, a real browser."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.disavow_lines import missing_lines, problems_of
from tests.exports import AHREFS_HEADER, ahrefs_row, write_csv
from toxiclinks.audit import parse, run_audit, validate
from toxiclinks.cli import main
from toxiclinks.errors import DisavowError, InputError
from toxiclinks.model import load
from toxiclinks.model import write_seed_data as synth_write
from toxiclinks.safeio import atomic_open, csv_bytes, write_csv_atomic


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    folder = tmp_path_factory.mktemp("export")
    links, labels, _ = synth_write(folder, 2, 300, seed=99)
    # Add hostile and broken rows to the real-looking export.
    extra = folder / "extra.csv"
    write_csv(extra, AHREFS_HEADER, [
        ahrefs_row(Anchor='=HYPERLINK("http://evil.example","x")', Referring_page_URL="https://evil.example.com/a"),
        ahrefs_row(Anchor="<script>alert('x')</script>", Referring_page_URL="https://xss.example.net/b"),
        ahrefs_row(Referring_page_URL="not a url"),
    ])
    return links, labels, extra


def test_audit_writes_every_output(tmp_path, small_model, export):
    links_csv, labels_csv, extra = export
    out = tmp_path / "audit"
    result = run_audit([str(links_csv), str(extra)], out, model=small_model.folder, progress=False)
    for name in ("links.csv", "links.parquet", "domains.csv", "disavow.txt", "report.html", "rejects.csv"):
        assert (out / name).exists(), name
    links = pd.read_csv(out / "links.csv", keep_default_na=False)
    n_input = len(links_csv.read_text().splitlines()) - 1 + 3
    rejects = pd.read_csv(out / "rejects.csv")
    assert len(links) + len(rejects) == n_input  # every input row is scored or rejected
    assert result.links == len(links) and result.rejected == 1
    assert links["toxicity"].between(0, 100).all()
    assert set(links["verdict"]) <= {"toxic", "suspicious", "ok", "unknown"}
    flagged = links[links["verdict"].isin(["toxic", "suspicious"])]
    assert len(flagged) > 0 and (flagged["reasons"].str.len() > 0).all()
    assert links["source_row"].astype(int).min() == 1
    # The parquet copy holds the same rows.
    assert len(pd.read_parquet(out / "links.parquet")) == len(links)
    # Formula injection is escaped in CSV.
    assert "'=HYPERLINK" in (out / "links.csv").read_text()
    # The disavow file passes Google's rules, and domains.csv explains each action.
    assert [p for p in validate(out / "disavow.txt") if "redundant" not in p] == []
    domains = pd.read_csv(out / "domains.csv")
    assert set(domains["action"]) <= {"keep", "review", "disavow these URLs", "disavow domain", "keep (allowlisted)"}
    disavowed = {ln.value for ln in parse((out / "disavow.txt").read_text()) if ln.kind == "domain"}
    assert disavowed == set(domains.loc[domains["action"] == "disavow domain", "source_site"])


def test_audit_finds_the_labelled_toxic_links(tmp_path, small_model, export):
    links_csv, labels_csv, _ = export
    out = tmp_path / "audit"
    run_audit([str(links_csv)], out, model=small_model.folder, progress=False)
    scored = pd.read_csv(out / "links.csv")
    labels = pd.read_csv(labels_csv)
    toxic = labels["label"].eq("toxic").to_numpy()
    # Directional check on unseen profiles: toxic links score far higher than natural ones.
    assert scored.loc[toxic, "toxicity"].median() > scored.loc[~toxic, "toxicity"].median() + 30


def test_existing_disavow_is_kept_and_guarded(tmp_path, small_model, export):
    links_csv, _, _ = export
    existing = tmp_path / "uploaded.txt"
    existing.write_text("# my file\ndomain:keep-me.com\nhttps://old.example/x\n")
    out = tmp_path / "audit"
    run_audit([str(links_csv)], out, model=small_model.folder, existing_disavow=str(existing), progress=False)
    text = (out / "disavow.txt").read_text()
    assert text.startswith("# my file\ndomain:keep-me.com\nhttps://old.example/x\n")
    # A second audit into the same folder must not silently replace that file.
    with pytest.raises(DisavowError, match="--existing-disavow"):
        run_audit([str(links_csv)], out, model=small_model.folder, progress=False)
    run_audit([str(links_csv)], out, model=small_model.folder, progress=False,
              existing_disavow=str(out / "disavow.txt"))
    assert (out / "disavow.txt").read_text().startswith("# my file\ndomain:keep-me.com\n")


def test_allowlist_overrides_the_model(tmp_path, small_model, export):
    links_csv, _, _ = export
    first = tmp_path / "a"
    run_audit([str(links_csv)], first, model=small_model.folder, progress=False)
    domains = pd.read_csv(first / "domains.csv")
    worst = domains.iloc[0]["source_site"]
    allow = tmp_path / "allow.txt"
    allow.write_text(f"# partners\ndomain:{worst}\n")
    second = tmp_path / "b"
    run_audit([str(links_csv)], second, model=small_model.folder, allowlist=str(allow), progress=False)
    links = pd.read_csv(second / "links.csv")
    assert set(links.loc[links["source_site"] == worst, "verdict"]) == {"ok"}
    assert worst not in (second / "disavow.txt").read_text()


def test_report_escapes_hostile_text(tmp_path, small_model, export):
    _, _, extra = export
    out = tmp_path / "audit"
    run_audit([str(extra)], out, model=small_model.folder, progress=False)
    html = (out / "report.html").read_text()
    assert "<script>alert" not in html and "default-src 'none'" in html


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is installed by .ci/run")
def test_report_renders_in_a_real_browser(tmp_path, small_model, export):
    links_csv, _, _ = export
    out = tmp_path / "audit"
    run_audit([str(links_csv)], out, model=small_model.folder, progress=False)
    shot = tmp_path / "report.png"
    dom = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", (out / "report.html").as_uri()],
        capture_output=True, text=True, timeout=120)
    assert "Riskiest referring sites" in dom.stdout and "<svg" in dom.stdout
    subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile2'}", f"--screenshot={shot}", "--window-size=1200,1600",
         (out / "report.html").as_uri()], capture_output=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 20_000  # a rendered page, not a blank one


def test_atomic_write_leaves_old_file_on_failure(tmp_path):
    target = tmp_path / "disavow.txt"
    target.write_text("domain:old.com\n")
    with pytest.raises(RuntimeError), atomic_open(target) as fh:
        fh.write("domain:half")
        raise RuntimeError("crash mid-write")
    assert target.read_text() == "domain:old.com\n"
    assert list(tmp_path.iterdir()) == [target]


def test_csv_writer_writes_what_pandas_writes_escaped_and_reads_back(tmp_path):
    hostile = ["plain", "c,d", 'say "hi"', "", None, " padded ", "two\nlines", "é ☃", "=cmd|' /C calc'!A0",
               "+1", "-x", "@sum", "\tTab", "caf\u00e9,\"x\"\n"]
    n = len(hostile)
    frame = pd.DataFrame({
        "text": pd.array(hostile, dtype="str"), "obj": np.array(hostile, dtype=object),
        "num": np.linspace(-1.5, 1e16, n), "tenths": np.round(np.arange(n) * 7.3, 1),
        "nan": [np.nan, 0.1 + 0.2] * (n // 2), "count": np.arange(n), "row": pd.array([1, None] * (n // 2), dtype="Int64"),
        "flag": [True, False] * (n // 2), "mixed": np.array([1.5, "x", None, np.nan, 3, True, "y"] * 2, dtype=object),
    })
    # The reference: the old route, pandas' to_csv after escaping text cells that start a formula.
    escaped = frame.copy()
    for name in ("text", "obj", "mixed"):
        text = escaped[name].astype("string")
        escaped[name] = text.mask(text.str.startswith(("=", "+", "-", "@", "\t", "\r")).fillna(False), "'" + text)
    for columns in (list(frame.columns), ["text"], ["row"], ["nan"]):
        for header in (True, False):
            assert csv_bytes(frame[columns], header=header).decode() == escaped[columns].to_csv(index=False, header=header)
    path = tmp_path / "out.csv"
    write_csv_atomic(frame, path)
    back = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert len(back) == n and back["text"].tolist()[:3] == ["plain", "c,d", 'say "hi"']
    assert back["text"].tolist()[8] == "'=cmd|' /C calc'!A0"
    # A bare CR is quoted (pandas leaves it bare and a reader splits the row there).
    assert csv_bytes(pd.DataFrame({"a": ["x\ry"], "b": [1]})) == b'a,b\n"x\ry",1\n'
    assert csv_bytes(pd.DataFrame({"a": []})) == b"a\n"
    # Columns made of several Arrow chunks (as concatenated chunks of rejects are) read as one.
    import pyarrow as pa

    chunked = pd.DataFrame({
        "text": pd.array(pa.chunked_array([["=a", "b,c"], ["d", None]]), dtype=pd.ArrowDtype(pa.string())),
        "str": pd.concat([pd.Series(["x\ny"], dtype="str"), pd.Series(["+z", "w", "v"], dtype="str")], ignore_index=True),
        "count": pd.array(pa.chunked_array([[1, None], [3, 4]]), dtype=pd.ArrowDtype(pa.int64())),
    })
    assert csv_bytes(chunked) == b'text,str,count\n\'=a,"x\ny",1\n"b,c",\'+z,\nd,w,3\n,v,4\n'


def test_audit_command_errors_are_clear(tmp_path, capsys, small_model):
    assert main(["audit", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "o"),
                 "--model", str(small_model.folder)]) == 2
    assert "no such file" in capsys.readouterr().err
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert main(["audit", str(empty), "--out", str(tmp_path / "o"), "--model", str(small_model.folder)]) == 2
    assert "empty" in capsys.readouterr().err
    assert main(["audit", str(empty), "--out", str(tmp_path / "o"), "--model", str(tmp_path)]) == 2
    assert "no model" in capsys.readouterr().err


def test_a_bug_is_one_line_not_a_traceback_and_the_traceback_comes_on_request(tmp_path, capsys, small_model,
                                                                               export, monkeypatch):
    import toxiclinks.audit as audit

    def broken(*args, **kwargs):
        raise KeyError("no such column")  # stands in for a bug of ours: none is known to raise here

    monkeypatch.setattr(audit, "run_audit", broken)
    links_csv, _, _ = export
    args = ["audit", str(links_csv), "--out", str(tmp_path / "out"), "--model", str(small_model.folder)]
    assert main(args) == 3
    err = capsys.readouterr().err
    assert err.startswith("internal error: KeyError") and "Traceback" not in err and err.count("\n") == 1
    monkeypatch.setenv("TOXICLINKS_DEBUG", "1")
    with pytest.raises(KeyError):
        main(args)


def test_allowlist_lines_that_name_no_domain_are_reported_and_idn_entries_match(tmp_path, small_model):
    from toxiclinks.audit._inputs import read_site_list
    from toxiclinks.errors import InputError
    from toxiclinks.model import load, score
    from toxiclinks.reading import read_export

    allow = tmp_path / "allow.txt"
    allow.write_text("domain:partner.example\nhttps//typo.example\n# note\nlocalhost\ncafé.fr\n", encoding="utf-16")
    entries, notes = read_site_list(allow)
    assert entries == ["domain:partner.example", "café.fr"]
    assert [n.split(": ", 1)[1] for n in notes] == ["line 2: 'https//typo.example' names no domain; ignored",
                                                     "line 4: 'localhost' names no domain; ignored"]
    with pytest.raises(InputError, match="is a folder"):
        read_site_list(tmp_path)
    (tmp_path / "x.bin").write_bytes(bytes(range(256)) * 4)
    with pytest.raises(InputError, match="binary"):
        read_site_list(tmp_path / "x.bin", "denylist")
    export = tmp_path / "links.csv"
    write_csv(export, AHREFS_HEADER, [ahrefs_row(Referring_page_URL="https://café.fr/casino", Anchor="casino")])
    links = read_export(export).links
    assert links["source_host"].iloc[0] == "xn--caf-dma.fr"
    scored = score(load(small_model.folder), links, allow=entries)
    assert scored["reasons"].iloc[0] == "on your allowlist" and scored["verdict"].iloc[0] == "ok"


def test_audit_command_prints_summary(tmp_path, capsys, small_model, export):
    links_csv, _, _ = export
    assert main(["audit", str(links_csv), "--out", str(tmp_path / "o"), "--model", str(small_model.folder),
                 "--site-topic", "outdoor gear"]) == 0
    out = capsys.readouterr().out
    assert "Audited" in out and "disavow.txt" in out and "report.html" in out


def test_url_only_export_gives_unknown_not_clean(tmp_path, small_model):
    from toxiclinks.features import spam_domains

    listed = sorted(spam_domains("known"))[10]
    gsc = tmp_path / "https___me.example.com_-Latest links-2026-05-18.csv"
    gsc.write_text(f"Linking page,Last crawled\nhttps://quiet-garden-club.org/news,2026-05-01\nhttp://{listed}/x,2026-05-02\n")
    run_audit([str(gsc)], tmp_path / "out", model=small_model.folder, progress=False)
    links = pd.read_csv(tmp_path / "out" / "links.csv")
    assert links.loc[0, "verdict"] == "unknown"
    assert links.loc[1, "verdict"] in ("toxic", "suspicious") and "spam/disavow lists" in links.loc[1, "reasons"]


def test_synth_and_pages_bad_input(tmp_path, capsys, small_model):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    assert main(["synth", "--out", str(blocker)]) == 2
    assert "not a folder" in capsys.readouterr().err
    assert main(["synth", "--out", str(tmp_path / "s"), "--targets", "-3"]) == 2
    assert "at least 1 target" in capsys.readouterr().err
    sample = tmp_path / "list.txt"
    sample.write_text("https://a.example.com/\n")
    assert main(["audit", str(sample), "--out", str(tmp_path / "o"), "--model", str(small_model.folder),
                 "--pages", str(tmp_path / "nope")]) == 2
    assert "no such folder of saved pages" in capsys.readouterr().err
    assert main(["audit", str(sample), "--out", str(tmp_path / "o"), "--model", str(small_model.folder),
                 "--pages", str(sample)]) == 2
    assert "is a file; --pages takes the folder" in capsys.readouterr().err
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "links.csv").mkdir()  # a folder where an output file must go
    assert main(["audit", str(sample), "--out", str(locked), "--model", str(small_model.folder)]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_rejects_from_several_files_are_all_written_in_order(tmp_path, small_model):
    """Rejects of several chunks are one table of several Arrow chunks; all reach rejects.csv."""
    files = []
    for name in ("one", "two"):
        files.append(tmp_path / f"{name}.csv")
        write_csv(files[-1], AHREFS_HEADER, [ahrefs_row(Referring_page_URL=f"https://{name}.example.com/a"),
                                             ahrefs_row(Referring_page_URL=f"no url {name}"),
                                             ahrefs_row(Referring_page_URL=f"javascript:{name}()")])
    result = run_audit([str(f) for f in files], tmp_path / "out", model=small_model.folder, progress=False)
    rejects = pd.read_csv(tmp_path / "out" / "rejects.csv")
    assert result.rejected == 4 and result.links == 2
    assert [Path(f).stem for f in rejects["file"]] == ["one", "one", "two", "two"]
    assert list(rejects["line"]) == [3, 4, 3, 4]
    assert rejects["value"].tolist() == ["no url one", "javascript:one()", "no url two", "javascript:two()"]


def test_a_held_export_lets_each_chunk_go_once_it_is_handed_out_and_a_large_file_is_never_held(tmp_path, monkeypatch):
    """The held chunks are not all alive until the end of scoring, and a file that cannot fit is
    streamed from its first chunk (holding it first would add the whole budget to the peak)."""
    import weakref

    from toxiclinks.audit import _run as audit

    chunks = [pd.DataFrame({"n": [i]}) for i in range(3)]
    refs = [weakref.ref(c) for c in chunks]
    held = list(chunks)
    del chunks
    handed = audit._let_go(held)
    first = next(handed)
    assert first["n"].item() == 0 and len(held) == 2
    del first
    assert refs[0]() is None  # nothing but the consumer kept it
    assert [c["n"].item() for c in handed] == [1, 2] and held == []
    small, large = tmp_path / "small.csv", tmp_path / "large.csv"
    small.write_bytes(b"x" * 1000)
    large.write_bytes(b"x" * 1000)
    monkeypatch.setattr(audit, "READ_ONCE_BYTES", 3000)
    assert audit._may_hold([str(small)]) and not audit._may_hold([str(small), str(large)])


def test_streamed_audit_writes_exactly_what_the_in_memory_audit_writes(tmp_path, small_model, export, monkeypatch):
    """Large exports are read twice in small chunks; every output must match the one-pass audit."""
    from toxiclinks.audit import _run as audit

    links_csv, _, extra = export
    whole = tmp_path / "whole"
    first = run_audit([str(links_csv), str(extra)], whole, model=small_model.folder, progress=False,
                      site_topic="outdoor gear")
    monkeypatch.setattr(audit, "READ_ONCE_BYTES", 0)
    monkeypatch.setattr(audit, "CHUNK_ROWS", 97)  # chunks that split sites and targets
    streamed = tmp_path / "streamed"
    second = run_audit([str(links_csv), str(extra)], streamed, model=small_model.folder, progress=False,
                       site_topic="outdoor gear")
    for name in ("links.csv", "domains.csv", "disavow.txt", "rejects.csv"):
        assert (whole / name).read_bytes() == (streamed / name).read_bytes(), name
    pd.testing.assert_frame_equal(pd.read_parquet(whole / "links.parquet"), pd.read_parquet(streamed / "links.parquet"))
    assert (first.links, first.verdicts, first.actions, first.alarms) == (
        second.links, second.verdicts, second.actions, second.alarms)
    assert first.links > 97 * 5


def test_an_export_that_changes_between_the_two_readings_is_an_error(tmp_path, small_model, export, monkeypatch):
    from toxiclinks.audit import _run as audit

    links_csv, _, _ = export
    monkeypatch.setattr(audit, "READ_ONCE_BYTES", 0)
    real = audit._Reader.chunks
    calls = []

    def growing(self, rejects, notes):
        calls.append(1)
        chunks = list(real(self, rejects, notes))
        return chunks + chunks[:1] if len(calls) == 2 else chunks  # the file grew before pass 2

    monkeypatch.setattr(audit._Reader, "chunks", growing)
    with pytest.raises(InputError, match="changed while it was being audited"):
        run_audit([str(links_csv)], tmp_path / "out", model=small_model.folder, progress=False)
    assert not (tmp_path / "out" / "links.csv").exists()  # nothing half-written is left behind


def test_a_failed_write_mid_audit_is_an_error_and_keeps_the_previous_outputs(tmp_path, small_model, export,
                                                                             monkeypatch):
    """A write that fails while links.csv is appended (a full disk) stops the audit with the error,
    and the outputs of the previous audit stay as they were, without temporary files beside them."""
    from toxiclinks.audit import _run as audit

    links_csv, _, _ = export
    out = tmp_path / "out"
    run_audit([str(links_csv)], out, model=small_model.folder, progress=False)
    before = {name: (out / name).read_bytes() for name in ("links.csv", "links.parquet", "disavow.txt")}
    monkeypatch.setattr(audit, "READ_ONCE_BYTES", 0)
    monkeypatch.setattr(audit, "CHUNK_ROWS", 97)
    real, calls = audit.csv_bytes, []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 4:
            raise OSError(28, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(audit, "csv_bytes", failing)
    with pytest.raises(OSError, match="No space left"):
        run_audit([str(links_csv)], out, model=small_model.folder, progress=False, force=True)
    assert {name: (out / name).read_bytes() for name in before} == before
    assert sorted(p.name for p in out.iterdir() if p.name.endswith(".tmp")) == []


def test_no_mainstream_tld_is_called_a_spam_tld_by_the_shipped_model():
    """The TLD rates are smoothed towards the overall rate; a reason may call a TLD's sites 'often
    spam' only when most of its training links were toxic. With 0.5 as the bar, the shipped model
    said '.net sites are often spam' (its rate in the seed data: 0.50)."""
    from toxiclinks.model import load
    from toxiclinks.model._explain import describe

    model = load(None)
    names = model.feature_names
    for tld in ("com", "net", "org", "de", "fr", "co.uk", "io", "info", "pl", "ru", "nl", "it", "es", "ca"):
        x = np.full(len(names), np.nan)
        x[names.index("domain__tld_spam_rate")] = model.features.tld_rate(tld)
        assert describe("domain__tld_spam_rate", x, names, {"source_suffix": tld}) == "", tld


def test_each_reason_describes_its_own_links_values(small_model, export):
    """Reasons are cached by what they say; two links whose values differ only slightly (a log
    count of 3.2356 vs 3.2364: 1,720 vs 1,723 links, equal to three decimals) must not share
    one link's phrase."""
    from toxiclinks.model._explain import describe, explain_rows
    from toxiclinks.reading import read_export

    model = load(small_model.folder)
    links = read_export(export[0]).links.head(2)
    X = model.transform(links)
    X[1] = X[0]
    names = model.feature_names
    j = names.index("placement__links_in_group_log")
    X[0, j], X[1, j] = 3.2356, 3.2364
    contrib = np.zeros((2, len(names)))
    contrib[:, j] = 1.0  # the only reason of both rows
    reasons = explain_rows(model, links, X, contrib=contrib)
    row = {"anchor": None, "source_site": None, "source_suffix": None, "source_platform": None,
           "source_topic": "", "target_topic": ""}
    assert reasons == [describe(names[j], X[0], names, row), describe(names[j], X[1], names, row)]
    assert reasons[0] != reasons[1]


@pytest.mark.parametrize("input_name, option", [("links.csv", None), ("rejects.csv", None), ("report.html", "--pages"),
                                                ("domains.csv", "--allowlist"), ("links.parquet", "--denylist")])
def test_an_output_never_replaces_an_input(tmp_path, capsys, small_model, export, input_name, option):
    """`audit DIR/links.csv --out DIR` replaced the export with the output, exit 0, no warning."""
    links_csv, _, _ = export
    folder = tmp_path / "work"
    folder.mkdir()
    target = folder / input_name
    if option == "--pages":
        target.write_text("<html><body><a href='https://gear.example.com/'>x</a></body></html>")
        args = [str(links_csv), "--pages", str(folder)]
    elif option:
        target.write_text("domain:partner.example\n")
        args = [str(links_csv), option, str(target)]
    else:
        shutil.copy(links_csv, target)
        args = [str(target)]
    before = target.read_bytes()
    assert main(["audit", *args, "--out", str(folder), "--model", str(small_model.folder)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"the output {target} would replace" in err and "choose another --out" in err
    assert target.read_bytes() == before and sorted(p.name for p in folder.iterdir()) == [input_name]
    # The same file reached through a symbolic link is the same input.
    if option is None:
        link = tmp_path / "elsewhere.csv"
        link.symlink_to(target)
        assert main(["audit", str(link), "--out", str(folder), "--model", str(small_model.folder)]) == 2
        assert target.read_bytes() == before


def test_a_disavow_file_that_cannot_hold_everything_exits_1_and_keeps_every_line(tmp_path, capsys, small_model, export,
                                                                               monkeypatch):
    """Google's limits made small (1,000 lines), so that an existing file of ordinary size overflows."""
    from toxiclinks.audit import _disavow as disavow

    monkeypatch.setattr(disavow, "MAX_LINES", 1_000)
    links_csv, _, _ = export
    existing = tmp_path / "uploaded.txt"
    original = [f"domain:s{i}.com" for i in range(999)] + ["https://x.example/page", "domain:https://y.example/a"]
    existing.write_text("\n".join(original) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    args = ["audit", str(links_csv), "--out", str(out), "--model", str(small_model.folder),
            "--existing-disavow", str(existing)]
    assert main(args) == 1
    captured = capsys.readouterr()
    assert "Audited" in captured.out and captured.err.count("\n") == 1
    assert captured.err.startswith("error: the disavow file is full") and "disavow-overflow.txt" in captured.err
    lines = (out / "disavow.txt").read_text(encoding="utf-8").split("\n")[:-1]
    overflow = (out / "disavow-overflow.txt").read_text(encoding="utf-8").split("\n")[:-1]
    assert missing_lines(original, lines, overflow) == []
    assert problems_of(out / "disavow.txt") == [] and problems_of(out / "disavow-overflow.txt") == []
    # domain: lines go first, in their order: the repaired one (2 lines) is the first that does not fit.
    assert lines[:999] == original[:999] and "domain:y.example" in overflow
    assert "https://x.example/page" in overflow
    # Merging into it in place: the overflow file of the first run is not replaced silently.
    in_place = ["audit", str(links_csv), "--out", str(out), "--model", str(small_model.folder),
                "--existing-disavow", str(out / "disavow.txt")]
    assert main(in_place) == 2 and "disavow-overflow.txt exists" in capsys.readouterr().err
    (out / "disavow-overflow.txt").rename(tmp_path / "first-overflow.txt")
    before = (out / "disavow.txt").read_bytes()
    assert main(in_place) in (0, 1)  # the existing lines all fit: only new entries can overflow
    assert (out / "disavow.txt").read_bytes() == before
    # An existing file that would lose lines to the overflow file is not replaced in place.
    (out / "disavow.txt").write_text("\n".join(original + ["https://z.example/1", "https://z.example/2"]) + "\n")
    before = (out / "disavow.txt").read_bytes()
    (out / "disavow-overflow.txt").unlink(missing_ok=True)
    assert main(in_place) == 2
    assert "would be shorter" in capsys.readouterr().err and (out / "disavow.txt").read_bytes() == before


def test_sigterm_removes_temporary_files_and_says_so(tmp_path, small_model, export):
    """SIGTERM mid-audit left `.links.csv.*.tmp` files and exited silently; it must end as Ctrl-C
    does. The audit is stopped at a known point: its own process sends SIGTERM to itself while
    writing the fourth chunk of links.csv, when the temporary outputs exist."""
    import sys

    links_csv, _, _ = export
    out = tmp_path / "out"
    script = f"""
import os, signal, sys
from toxiclinks.audit import _run as audit
from toxiclinks.cli import main
audit.READ_ONCE_BYTES, audit.CHUNK_ROWS = 0, 97
real, calls = audit.csv_bytes, []
def stopping(*args, **kwargs):
    calls.append(1)
    if len(calls) == 4:
        assert any(p.name.startswith(".links.csv.") for p in os.scandir({str(out)!r}))
        os.kill(os.getpid(), signal.SIGTERM)
    return real(*args, **kwargs)
audit.csv_bytes = stopping
sys.exit(main(["audit", {str(links_csv)!r}, "--out", {str(out)!r}, "--model", {str(small_model.folder)!r}]))
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 143, proc.stderr[-2000:]
    assert proc.stderr == "terminated (SIGTERM); no output was half-written\n"
    assert sorted(p.name for p in out.iterdir()) == []
