"""``cxops check-message FILE|-``: exit status 0 when clean and 3 with findings, JSON output with exact
spans, explanations in the asked language, and clear errors (empty input, missing file, not UTF-8)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from cxops.cli import app
from cxops.cli_message import FINDINGS_EXIT

pytestmark = pytest.mark.e2e
runner = CliRunner()


def run(*args: str, stdin: str | bytes | None = None):
    return runner.invoke(app, list(args), input=stdin, catch_exceptions=False)


def test_a_clean_message_exits_0(tmp_path):
    f = tmp_path / "ok.txt"
    f.write_text("Your parcel left our warehouse today. Contact us through Buyer-Seller Messaging.")
    res = run("check-message", str(f))
    assert res.exit_code == 0, res.output
    assert "No findings" in res.output


def test_findings_exit_3_with_the_table():
    res = run("check-message", "-", stdin="Please update your review and email me at a@b.com")
    assert res.exit_code == FINDINGS_EXIT == 3, res.output
    out = " ".join(res.output.split())
    assert "3 findings" in out and "review_change" in out and "off_platform_contact" in out
    assert "7–25" in out and "42–49" in out  # the spans


def test_json_with_exact_spans_and_chinese_explanations():
    message = "亲，麻烦把差评删掉，加微信 shop88 返现"
    res = run("--lang", "zh", "check-message", "-", "--format", "json", stdin=message)
    assert res.exit_code == 3, res.output
    data = json.loads(res.stdout)
    assert data["clean"] is False and data["lang"] == "zh" and data["length"] == len(message)
    got = {(f["rule"], f["start"], f["end"], f["text"]) for f in data["findings"]}
    assert ("review_change", 5, 9, "差评删掉") in got
    assert ("off_platform_contact", 10, 13, "加微信") in got
    for f in data["findings"]:
        assert message[f["start"] : f["end"]] == f["text"]
    change = next(f for f in data["findings"] if f["rule"] == "review_change")
    assert change["title"] == "要求修改或删除评价" and "评价" in change["explanation"]


def test_only_some_message_languages():
    res = run(
        "check-message", "-", "--format", "json", "--message-lang", "en", stdin="Bitte Bewertung ändern"
    )
    assert res.exit_code == 0 and json.loads(res.stdout)["findings"] == []


@pytest.mark.parametrize(
    ("stdin", "args", "words"),
    [
        ("", ["-"], ["standard input is empty"]),
        ("  \n\t ", ["-"], ["standard input is empty"]),
        (None, ["/no/such/draft.txt"], ["/no/such/draft.txt: no such file"]),
        (b"\xff\xfe\x00bad", ["-"], ["standard input is not UTF-8 text"]),
        ("hello", ["-", "--message-lang", "xx"], ["unsupported message language xx"]),
    ],
)
def test_bad_input_is_a_clear_error(stdin, args, words):
    res = run("check-message", *args, stdin=stdin)
    assert res.exit_code == 1, res.output
    text = " ".join(res.output.split())
    assert "error:" in text and "Traceback" not in res.output
    for w in words:
        assert w in text


def test_the_installed_command_reads_standard_input():
    """The real entry point in a subprocess: piped input, exit status 3, no colour codes when piped."""
    p = subprocess.run(
        [sys.executable, "-c", "from cxops.cli import app; app()", "check-message", "-", "--format", "json"],
        input=b"Leave us a 5-star review and get 20% off your next order!",
        capture_output=True,
        timeout=120,
    )
    assert p.returncode == 3, p.stderr.decode()
    rules = {f["rule"] for f in json.loads(p.stdout)["findings"]}
    assert rules == {"review_positive", "review_incentive", "marketing"}
