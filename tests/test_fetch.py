"""The fetch stage against a real S3-protocol server (moto's, in this process, on 127.0.0.1).

Blobs are real standard-library files, gzip'd as Software Heritage stores
them; the shards that point at them are written in both Stack v2 layouts. A
fault-injecting proxy answers each blob's first GETs ``503 SlowDown``: they
must be retried and nothing lost. The whole run (shards, outputs, cache) is on
s3://, through Beam's S3 filesystem.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from beam_swallow.cli import main
from beam_swallow.records import ErrorKind, Reason
from beam_swallow.samples import stdlib_python_files
from beam_swallow.sources.blobs import CorruptBlob, blob_value
from beam_swallow.sources.s3 import S3Settings, check_s3_paths, make_client
from beam_swallow.testing import assert_conserved, free_port, read_outputs, read_report
from beam_swallow.testing.lint_reference import stdlib_sources
from beam_swallow.testing.s3 import CREDENTIALS, FaultProxy, S3Server
from beam_swallow.testing.stack_v2 import (
    StackFile,
    upload_blobs,
    write_file_shard,
    write_repository_shard,
)
from beam_swallow.transforms.fetch import FetchConfig, MissingBlob, fetch_value

BUCKET = "softwareheritage"
PREFIX = "content/"
DATA = "data"
MAX_BYTES = 40_000
CP1252_LINE = "# café, naïve — déjà vu\n"
SJIS_LINE = "# 日本語のコメント: 設定を読む\n"
# Software Heritage's bucket: anyone may read its objects, unsigned.
PUBLIC_READ = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{BUCKET}/*",
        }
    ],
}


@pytest.fixture(scope="module")
def s3():
    """moto's server and a proxy in front of it that fails each blob's first two GETs."""
    with pytest.MonkeyPatch.context() as env:
        for name, value in CREDENTIALS.items():
            env.setenv(name, value)
        with S3Server() as server, FaultProxy(server.url, f"/{BUCKET}/{PREFIX}", 2) as proxy:
            client = server.client()
            client.create_bucket(Bucket=BUCKET)
            client.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(PUBLIC_READ))
            client.create_bucket(Bucket=DATA)
            yield server, proxy, client


@pytest.fixture(scope="module")
def corpus() -> dict[str, StackFile]:
    small = [t for t in stdlib_sources(24, max_bytes=8_000) if t.isascii()][:6]
    large = next(p for p in stdlib_python_files() if p.stat().st_size > MAX_BYTES + 10_000)
    return {
        "utf8_a": StackFile("a.py", small[0].encode(), repo_name="alice/a"),
        "utf8_b": StackFile("b.py", small[1].encode(), repo_name="bob/b"),
        "cp1252": StackFile(
            "legacy.py",
            (CP1252_LINE + small[2]).encode("cp1252"),
            repo_name="alice/a",
            src_encoding="windows-1252",
        ),
        "sjis": StackFile(
            "jp.py",
            (SJIS_LINE + small[3]).encode("shift_jis"),
            repo_name="bob/b",
            src_encoding="Shift_JIS",
        ),
        # cp1252 bytes labelled UTF-8: neither its encoding nor the fallback decodes it
        "undecodable": StackFile(
            "mislabelled.py", (CP1252_LINE + "x = 1\n").encode("cp1252"), repo_name="bob/b"
        ),
        "nul": StackFile("nul.py", small[4].encode() + b"\0\n", repo_name="alice/a"),
        # its metadata says small, its blob decodes past the bound
        "large": StackFile("large.py", large.read_bytes(), repo_name="bob/b", length_bytes=100),
        "missing": StackFile("gone.py", b"never uploaded\n", repo_name="alice/a"),
        "corrupt": StackFile("corrupt.py", small[5].encode() + b"#", repo_name="bob/b"),
        "js": StackFile("app.js", b"let x = 1;\n", repo_name="alice/a", language="JavaScript"),
    }


@pytest.fixture(scope="module")
def uploaded(s3, corpus, tmp_path_factory):
    """Blobs in the store (the corrupt one not gzip'd), shards of both layouts in s3://data."""
    _, _, client = s3
    blobs = {f.blob_id: f.data for k, f in corpus.items() if k not in ("missing", "corrupt")}
    upload_blobs(client, BUCKET, PREFIX, blobs)
    corrupt = corpus["corrupt"]
    upload_blobs(client, BUCKET, PREFIX, {corrupt.blob_id: corrupt.data}, compress=False)
    folder = tmp_path_factory.mktemp("shards")
    names = list(corpus)
    write_repository_shard(folder / "repos.parquet", [corpus[k] for k in names[:6]])
    write_file_shard(folder / "files.parquet", [corpus[k] for k in names[6:]])
    for shard in folder.iterdir():
        client.upload_file(str(shard), DATA, f"shards/{shard.name}")
    return corpus


def _download(client, prefix: str, dest: Path) -> Path:
    """Copy every object under s3://data/<prefix> to ``dest``; returns ``dest``."""
    listed = client.list_objects_v2(Bucket=DATA, Prefix=prefix).get("Contents", [])
    for item in listed:
        target = dest / item["Key"][len(prefix) :]
        target.parent.mkdir(parents=True, exist_ok=True)
        client.download_file(DATA, item["Key"], str(target))
    return dest


def _argv(proxy: FaultProxy, output: str) -> list[str]:
    return [
        "code",
        "--input_format=stack_v2",
        f"--input=s3://{DATA}/shards/*.parquet",
        f"--output={output}",
        f"--cache_dir=s3://{DATA}/cache",
        "--stages=syntax",
        "--languages=Python",  # the JavaScript file is rejected before its blob is fetched
        f"--stack_v2_max_bytes={MAX_BYTES}",
        "--fetch_retry_max_wait=0.05",
        f"--s3_endpoint_url={proxy.url}",
        "--s3_region_name=us-east-1",
        "--quiet",
    ]


def _blob_path(item: StackFile) -> str:
    return f"/{BUCKET}/{PREFIX}{item.blob_id}"


def test_a_run_on_s3_fetches_retries_judges_and_a_rerun_fetches_nothing(s3, uploaded, tmp_path):
    _, proxy, client = s3
    proxy.reset(failures=2)
    assert main(_argv(proxy, f"s3://{DATA}/run1")) == 0
    out = _download(client, "run1/", tmp_path / "run1")
    report, outputs = read_report(out), read_outputs(out)
    assert_conserved(report, outputs)

    fetch = report["stages"]["fetch"]
    assert fetch["input"] == len(uploaded) - 1  # the JavaScript file never reached it
    kept = {r["path"]: r for r in outputs["kept"]}
    assert sorted(kept) == ["a.py", "b.py", "jp.py", "legacy.py"]
    assert kept["legacy.py"]["text"].startswith(CP1252_LINE)
    assert kept["legacy.py"]["decoded_as"] == "windows-1252"
    assert kept["jp.py"]["text"].startswith(SJIS_LINE)
    assert kept["jp.py"]["decoded_as"] == "Shift_JIS"
    assert kept["a.py"]["text"] == uploaded["utf8_a"].data.decode("utf-8")
    for record in kept.values():
        assert record["id"] == record["blob_id"] and record["revision_id"]
    rejected = {(r["path"], r["stage"], r["reason"]) for r in outputs["rejected"]}
    assert rejected == {
        ("app.js", "read", Reason.OTHER_LANGUAGE),
        ("mislabelled.py", "fetch", Reason.UNDECODABLE),
        ("nul.py", "fetch", Reason.NULL_BYTES),
        ("large.py", "fetch", Reason.TOO_LARGE),
    }
    letters = {(d["path"], d["error_type"]) for d in outputs["dead_letter"]}
    assert letters == {("gone.py", ErrorKind.MISSING_BLOB), ("corrupt.py", ErrorKind.CORRUPT_BLOB)}
    [gone] = [d for d in outputs["dead_letter"] if d["path"] == "gone.py"]
    assert uploaded["missing"].blob_id in gone["error"]

    # every blob was refused twice and then fetched; the 404 was asked once after that
    gets = proxy.gets
    assert proxy.faults == 2 * fetch["input"]
    assert gets[_blob_path(uploaded["missing"])] == 3
    assert gets[_blob_path(uploaded["utf8_a"])] == 3
    assert _blob_path(uploaded["js"]) not in gets
    assert report["stages"]["fetch"]["cache"]["written"] == 7

    proxy.reset(failures=0)
    again = tmp_path / "run2"  # the rerun writes locally (Beam's S3 calls cost ~1 s each here)
    assert main(_argv(proxy, str(again))) == 0
    report2, outputs2 = read_report(again), read_outputs(again)
    assert_conserved(report2, outputs2)
    # only the dead letters (not cached: broken, not judged) are asked for again
    assert set(proxy.gets) == {_blob_path(uploaded["missing"]), _blob_path(uploaded["corrupt"])}
    assert report2["stages"]["fetch"]["cache"]["hits"] == 7
    key = lambda r: (r["path"], r.get("text"), r.get("reason"))  # noqa: E731
    for sink in ("kept", "rejected"):
        assert sorted(map(key, outputs2[sink])) == sorted(map(key, outputs[sink]))
    assert all(r["from_cache"] == ["fetch"] for r in outputs2["kept"])


def test_fetch_value_retries_slowdown_but_not_a_missing_blob(s3, uploaded):
    _, proxy, _ = s3
    cfg = FetchConfig(
        content_url=f"s3://{BUCKET}/{PREFIX}",
        retries=3,
        retry_initial_s=0.01,
        retry_max_wait_s=0.05,
        s3=S3Settings(endpoint_url=proxy.url),
    )
    client = make_client(cfg.s3, anonymous=True)
    proxy.reset(failures=3)
    item = uploaded["utf8_b"]
    assert fetch_value(client, cfg, {"blob_id": item.blob_id})["text"] == item.data.decode()
    with pytest.raises(MissingBlob, match=uploaded["missing"].blob_id):
        fetch_value(client, cfg, {"blob_id": uploaded["missing"].blob_id})
    assert proxy.gets[_blob_path(uploaded["missing"])] == 4  # three 503s, then one 404
    proxy.reset(failures=10)
    with pytest.raises(ClientError, match="SlowDown"):
        fetch_value(client, cfg, {"blob_id": item.blob_id})
    assert proxy.gets[_blob_path(item)] == 4  # the first try and three retries
    proxy.reset(failures=0)
    small = FetchConfig(content_url=cfg.content_url, max_bytes=10, s3=cfg.s3)
    value = fetch_value(client, small, {"blob_id": item.blob_id})
    assert value["reason"] == Reason.TOO_LARGE and value["blob_bytes"] > 10


def test_blob_value_decodes_and_judges():
    text = "s = 'é'\n"
    gz = gzip.compress
    assert blob_value(gz(text.encode("cp1252")), "windows-1252", 100)["text"] == text
    assert blob_value(gz(text.encode()), "no-such-codec", 100)["decoded_as"] == "utf-8"
    assert blob_value(gz(text.encode("cp1252")), "UTF-8", 100)["reason"] == Reason.UNDECODABLE
    assert blob_value(gz(b"x = 1\0"), "UTF-8", 100)["reason"] == Reason.NULL_BYTES
    assert blob_value(gz(b"x" * 101), "UTF-8", 100)["reason"] == Reason.TOO_LARGE
    assert blob_value(gz(b"a\n") + gz(b"b\n"), "UTF-8", 100)["text"] == "a\nb\n"
    with pytest.raises(CorruptBlob):
        blob_value(b"plain text", "UTF-8", 100)
    with pytest.raises(CorruptBlob, match="cut short"):
        blob_value(gz(b"x = 1\n" * 50)[:-12], "UTF-8", 1000)


def test_s3_paths_fail_fast_with_one_line(s3, monkeypatch, capsys):
    server, _, _ = s3
    flags = ["code", "--input_format=stack_v2", f"--input=s3://{DATA}/shards/*.parquet"]
    flags += [f"--s3_endpoint_url={server.url}", "--stages=syntax", "--quiet"]
    assert main([*flags, "--output=s3://nosuchbucket/out"]) == 2
    assert "S3 refused s3://nosuchbucket: NoSuchBucket" in capsys.readouterr().err

    # moto checks keys when IAM authentication is on: these exist nowhere
    from moto.core.authorization import enable_iam_authentication

    wrong = ["--s3_access_key_id=AKIAWRONGWRONGWRONG0", "--s3_secret_access_key=wrong"]
    with enable_iam_authentication():
        assert main([*flags, f"--output=s3://{DATA}/out", *wrong]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "S3 refused s3://data: InvalidAccessKeyId" in err

    unreachable = S3Settings(endpoint_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(ValueError, match="did not answer"):
        check_s3_paths([f"s3://{DATA}/x"], unreachable)

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert main([*flags, f"--output=s3://{DATA}/out"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no S3 credentials for s3://data" in err
