"""The report schema: round trips and validation errors."""

import pytest

from mkdocs_erratum.report import (
    Report,
    ReportBlock,
    ReportError,
    format_report_block,
    parse_issue_body,
    text_hash,
)


def make_report(**changes) -> Report:
    block = ReportBlock("docs/a.md", 3, 4, "Teh cat\nsat.", text_hash("Teh cat\nsat."), "The cat")
    fields = dict(page_url="https://example.com/a/", blocks=[block], comment="typo")
    fields.update(changes)
    return Report(**fields)


def test_issue_body_round_trip():
    report = make_report(commit="a" * 40, repository="o/r", branch="main")
    body = "Some prose\n\n" + format_report_block(report) + "\n\ntrailing"
    assert parse_issue_body(body) == report


def test_round_trip_survives_fences_in_text():
    report = make_report(comment="```\ncode\n```")
    assert parse_issue_body(format_report_block(report)) == report


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"version": 2}, "version"),
        ({"id": "x"}, "id"),
        ({"blocks": []}, "blocks"),
        ({"commit": "zz"}, "commit"),
        ({"repository": "no-slash"}, "repository"),
        ({"comment": "x" * 5001}, "comment"),
    ],
)
def test_invalid_fields_are_named(change, message):
    data = make_report().to_dict()
    data.update(change)
    with pytest.raises(ReportError, match=message):
        Report.from_dict(data)


@pytest.mark.parametrize(
    ("block_change", "message"),
    [
        ({"path": "../etc/passwd"}, r"blocks\[0\].path"),
        ({"path": "/abs.md"}, r"blocks\[0\].path"),
        ({"start": 0}, r"blocks\[0\]"),
        ({"start": 5, "end": 4}, r"blocks\[0\]"),
        ({"original_sha256": "0" * 64}, "does not match"),
        ({"replacement": "x" * 20_001}, "replacement"),
    ],
)
def test_invalid_blocks_are_named(block_change, message):
    data = make_report().to_dict()
    data["blocks"][0].update(block_change)
    with pytest.raises(ReportError, match=message):
        Report.from_dict(data)


def test_body_without_block():
    with pytest.raises(ReportError, match="no ```json erratum-report block"):
        parse_issue_body("just words")


def test_joins_round_trips_and_is_left_out_when_unset():
    assert "joins" not in make_report().to_dict()
    report = make_report(joins=12)
    assert Report.from_json(report.to_json()).joins == 12
    assert parse_issue_body(format_report_block(report)) == report


@pytest.mark.parametrize("joins", [0, -3, "12", True, 1.5, 2**31])
def test_joins_must_be_a_number(joins):
    data = make_report().to_dict() | {"joins": joins}
    with pytest.raises(ReportError, match="joins"):
        Report.from_dict(data)
