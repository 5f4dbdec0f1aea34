"""`takeaways check` and `takeaways.check`: claims from anywhere against an article, offline."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

import takeaways
from takeaways.cli import cli

FIXTURES = Path(__file__).parent / "fixtures"
ARTICLE = str(FIXTURES / "article.html")
GOOD = "Forty riders a night crossed the bay without a single reported incident."
BAD = "The ferry's lower deck will be fitted with ten bicycle racks."
WEAK = "Forty cyclists a night crossed the bay without a single reported incident."  # a word the quote lacks


def run(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), input=input)
    return result.exit_code, result.stdout, result.stderr


def test_claims_file_md_output_and_exit_code(tmp_path: Path) -> None:
    claims = tmp_path / "claims.txt"
    claims.write_text(f"{GOOD}\n\n{BAD}\n{WEAK}\n", encoding="utf-8")
    code, out, err = run("check", ARTICLE, str(claims))
    assert code == 1 and err == ""
    assert out == (
        f"1. **supported** (1.00): {GOOD}\n"
        "   > The change follows a pilot in which forty riders a night crossed the bay without a single reported"
        " incident. [188:296]\n"
        "\n"
        f"2. **NOT SUPPORTED** (0.37): {BAD}\n"
        "   > Officials said the ferry's lower deck will be fitted with twelve bicycle racks and a ramp that folds"
        " flat when the vessel docks. [297:425]\n"
        "   - number `ten`: ten is not in the article\n"
        "\n"
        f"3. **supported** (0.89): {WEAK}\n"
        "   > The change follows a pilot in which forty riders a night crossed the bay without a single reported"
        " incident. [188:296]\n"
        "   - weak word `cyclists`: not in the evidence\n"
        "\n"
        "2 of 3 claim(s) supported.\n"
    )


def test_all_supported_exits_0_json_list_from_stdin() -> None:
    code, out, _ = run("check", ARTICLE, "-", "-f", "json", input=json.dumps([GOOD]))
    assert code == 0
    data = json.loads(out)
    assert data["supported"] is True and data["score"] == 1.0
    assert data["claims"][0]["evidence_span"] == [188, 296]


def test_jsonl_many_in_order_with_an_error_line_for_a_bad_line(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join([
        json.dumps({"id": "a", "article": "The council voted 7-2 on Tuesday.", "claims": ["The council voted 7-2."]}),
        "{not json",
        json.dumps({"id": "c", "article": "x", "claims": "one claim"}),
        json.dumps({"id": 4, "source": ARTICLE, "claims": [GOOD, BAD]}),
        json.dumps({"id": 5, "source": str(tmp_path / "missing.html"), "claims": [GOOD]}),
    ]) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    code, stdout, _ = run("check", "--jsonl", str(src), "-o", str(out))
    assert code == 1 and stdout == ""
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [x["id"] for x in lines] == ["a", None, "c", 4, 5]
    assert lines[0]["supported"] is True and lines[0]["score"] == 1.0
    assert lines[1] == {"id": None, "line": 2, "error": "not JSON (Expecting property name enclosed in double quotes)"}
    assert lines[2] == {"id": "c", "line": 3, "error": '"claims" must be a list of strings'}
    assert lines[3]["supported"] is False and lines[3]["score"] == 0.3713
    assert [c["supported"] for c in lines[3]["claims"]] == [True, False]
    assert set(lines[3]["claims"][1]) == {"claim", "supported", "score", "evidence", "evidence_span", "unsupported",
                                          "weak"}
    assert lines[3]["claims"][0]["unsupported"] == [] and lines[3]["claims"][1]["weak"] == []
    assert [u["term"] for u in lines[3]["claims"][1]["unsupported"]] == ["ten"]
    assert lines[4]["line"] == 5 and "no such file" in lines[4]["error"]


def test_jsonl_all_supported_exits_0_on_stdout() -> None:
    line = json.dumps({"id": 1, "article": "Three people were hurt.", "claims": ["3 people were hurt."]})
    code, out, _ = run("check", "--jsonl", "-", input=line + "\n")
    assert code == 0
    assert json.loads(out)["supported"] is True


def test_user_errors_are_clear_and_write_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    code, _, err = run("check", ARTICLE, str(tmp_path / "nope.txt"), "-o", str(out))
    assert code == 2 and "nope.txt: cannot read claims: No such file or directory" in err
    assert "Traceback" not in err and not out.exists()
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n", encoding="utf-8")
    code, _, err = run("check", ARTICLE, str(empty))
    assert code == 2 and "no claims" in err
    code, _, err = run("check", ARTICLE, "-", input='["ok", 3]')
    assert code == 2 and "must hold strings only" in err
    code, _, err = run("check", "-", "-")
    assert code == 2 and "cannot both be -" in err
    code, _, err = run("check", ARTICLE)
    assert code == 2 and "give SOURCE and CLAIMS" in err
    code, _, err = run("check", str(tmp_path / "missing.html"), "-", input=GOOD)
    assert code == 1 and err.startswith("Error: ") and "no such file" in err


def test_python_api() -> None:
    text = "Arsenal beat Chelsea 2-0 on Saturday. The club did not sign a new striker."
    good, swapped, negated = takeaways.check(
        ["Arsenal beat Chelsea 2-0.", "Chelsea beat Arsenal 2-0.", "The club signed a new striker."], text)
    assert good.supported and not swapped.supported and not negated.supported
    assert [u.kind for u in swapped.unsupported] == ["role"]
    assert takeaways.check("Arsenal won 2-0 on Saturday.", text)[0].evidence_span == (0, 37)
