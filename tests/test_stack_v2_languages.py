"""The Stack v2 with ``--languages Go,Rust,C``: real files of several languages, their blobs
on moto's S3 server (127.0.0.1), read by the code pipeline. The files of other languages
are rejected at read (``other_language``, ``unsupported_language`` for a label of none
the catalog knows) before anything is fetched; the rest are fetched, carry their
language, and the report counts each language apart."""

from __future__ import annotations

import pytest

from beam_swallow.cli import main
from beam_swallow.records import Reason
from beam_swallow.testing import assert_conserved, read_outputs, read_report
from beam_swallow.testing.code_corpus import code_files
from beam_swallow.testing.s3 import CREDENTIALS, S3Server
from beam_swallow.testing.stack_v2 import (
    StackFile,
    upload_blobs,
    write_file_shard,
    write_repository_shard,
)

BUCKET = "softwareheritage"
PREFIX = "content/"
DATA = "data"
TAKEN = ("Go", "Rust", "C")
OTHERS = ("Python", "Java", "JavaScript", "Shell")


@pytest.fixture(scope="module")
def s3():
    with pytest.MonkeyPatch.context() as env:
        for name, value in CREDENTIALS.items():
            env.setenv(name, value)
        with S3Server() as server:
            client = server.client()
            client.create_bucket(Bucket=BUCKET)
            client.create_bucket(Bucket=DATA)
            yield server, client


def _files() -> list[StackFile]:
    files = []
    for language in (*TAKEN, *OTHERS):
        found = code_files(language, count=2, max_bytes=8_000)
        assert len(found) == 2, f"no {language} files here: make corpora"
        for index, item in enumerate(found):
            name = item.path.rsplit("!", 1)[-1].rsplit("/", 1)[-1]
            files.append(
                StackFile(
                    f"{language}/{name}",
                    item.text.encode("utf-8"),
                    repo_name=f"{language.lower()}/repo{index}",
                    language=language,
                )
            )
    files.append(StackFile("docs/README.md", b"# notes\n", language="Markdown"))
    return files


def test_languages_select_before_fetch_and_the_report_counts_each(s3, tmp_path, capsys):
    server, client = s3
    files = _files()
    upload_blobs(client, BUCKET, PREFIX, {f.blob_id: f.data for f in files})
    shards = tmp_path / "shards"
    shards.mkdir()
    write_repository_shard(shards / "repos.parquet", files[::2])
    write_file_shard(shards / "files.parquet", files[1::2])
    for shard in shards.iterdir():
        client.upload_file(str(shard), DATA, f"shards/{shard.name}")
    out = tmp_path / "out"
    argv = [
        "code",
        "--input_format=stack_v2",
        f"--input=s3://{DATA}/shards/*.parquet",
        f"--output={out}",
        "--stages=exact_dedup",
        "--languages=go,Rust,C",
        f"--stack_v2_content_url=s3://{BUCKET}/{PREFIX}",
        f"--s3_endpoint_url={server.url}",
        "--s3_region_name=us-east-1",
        "--quiet",
    ]
    assert main(argv) == 0, capsys.readouterr().err
    report, outputs = read_report(out), read_outputs(out)
    assert_conserved(report, outputs)

    assert report["stages"]["fetch"]["input"] == 2 * len(TAKEN)  # nothing else was fetched
    by_path = {f.path: f for f in files}
    for record in outputs["kept"]:
        assert record["language"] in TAKEN
        assert record["text"] == by_path[record["path"]].data.decode("utf-8")
    rejected = {(r["path"], r["stage"], r["reason"]) for r in outputs["rejected"]}
    assert ("docs/README.md", "read", Reason.UNSUPPORTED_LANGUAGE) in rejected
    others = {r["path"] for r in outputs["rejected"] if r["reason"] == Reason.OTHER_LANGUAGE}
    assert others == {f.path for f in files if f.language in OTHERS}
    languages = report["languages"]
    assert set(languages) == {*TAKEN, *OTHERS}
    for language in TAKEN:
        assert languages[language]["input"] == 2 and languages[language]["dead_letter"] == 0
        assert languages[language]["kept"] + sum(languages[language]["rejected"].values()) == 2
    for language in OTHERS:
        assert languages[language]["rejected"] == {Reason.OTHER_LANGUAGE: 2}
    assert report["no_language"] == 1  # the Markdown file


def test_the_label_field_of_stack_v2_is_its_own_column(tmp_path, capsys):
    argv = ["code", "--input_format=stack_v2", f"--input={tmp_path}/*.parquet"]
    assert main([*argv, "--language_field=lang", f"--output={tmp_path}/o", "--quiet"]) == 2
    assert "labelled by its own 'language' column" in capsys.readouterr().err
