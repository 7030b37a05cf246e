"""The Action's side of a run, below the workflow: the papers an issue's body names, the decision on an event,
the pull request's text (its drafter, failures with reasons, queued lessons, inert titles)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from paperdiary.errors import UsageError
from paperdiary.runs.backlog import parse_issue_body
from paperdiary.runs.github import markdown_text, pull_request_text, read_event, read_summary
from paperdiary.settings import load_settings
from tests.conftest import clean_env, run_cli


def test_an_issue_body_names_its_papers_anywhere_in_its_prose() -> None:
    body = ("Read these on the train:\n- https://arxiv.org/abs/2506.01939, and [Attention](https://arxiv.org/pdf/"
            "1706.03762v5.pdf).\narXiv:2203.14465 https://huggingface.co/papers/2501.12948 "
            "https://example.com/post 2506.01939 again\n```\n2401.00001 in a pasted log\n```\n")
    backlog = parse_issue_body(body, source="issue")
    assert [i.ref.versioned_id for i in backlog.items] == ["2506.01939", "1706.03762v5", "2203.14465", "2501.12948"]
    assert backlog.problems == [] and len(backlog.duplicates) == 1
    assert backlog.items[1].source == "issue:2"


def test_an_issue_body_naming_no_paper_is_one_problem() -> None:
    backlog = parse_issue_body("please draft the paper Bob mentioned /etc/passwd.pdf", source="issue")
    assert backlog.items == [] and [p.reason for p in backlog.problems] == ["no arXiv link or ID in it."]


def test_catchup_from_issue_body_plans_its_papers(diary: Path, tmp_path: Path) -> None:
    body = tmp_path / "body.md"
    body.write_text("Two for today: https://arxiv.org/abs/2506.01939 and 1706.03762\n", encoding="utf-8")
    done = run_cli("--json", "catchup", "--from-issue-body", str(body), "--dry-run", cwd=diary)
    assert done.returncode == 0, done.stderr
    assert [p["paper"] for p in json.loads(done.stdout)["to_draft"]] == ["2506.01939", "1706.03762"]
    missing = run_cli("catchup", "--from-issue-body", str(tmp_path / "gone.md"), "--dry-run", cwd=diary)
    assert missing.returncode == 2 and "cannot read the issue body" in missing.stderr and "Traceback" not in missing.stderr


def issue_payload(association: str = "OWNER", label: str = "paper", number: object = 5) -> dict:
    return {"action": "labeled", "label": {"name": label},
            "issue": {"number": number, "author_association": association, "title": "t", "body": "b"}}


def test_the_event_decides(diary: Path, tmp_path: Path) -> None:
    settings = load_settings(diary, env={})
    papers = tmp_path / "papers.md"
    decided = read_event(settings, "issues", issue_payload(), {"ISSUE_BODY": "2506.01939"}, label="paper",
                         papers_file=papers)
    assert decided.outputs() == {"draft": "true", "source": "issue", "branch": "paperdiary/issue-5", "issue": "5"}
    assert papers.read_text(encoding="utf-8") == "2506.01939"
    for payload in (issue_payload("NONE"), issue_payload(label="bug")):
        assert not read_event(settings, "issues", payload, {}, label="paper", papers_file=papers).draft
    with pytest.raises(UsageError):
        read_event(settings, "issues", issue_payload(number="5; rm -rf /"), {}, label="paper", papers_file=papers)
    assert not read_event(settings, "push", {}, {}, label="paper", papers_file=papers).draft  # no reading list
    (diary / "READING-LIST.md").write_text("- [ ] 2506.01939\n", encoding="utf-8")
    assert read_event(settings, "push", {}, {}, label="paper", papers_file=papers).branch == "paperdiary/reading-list"
    (diary / "READING-LIST.md").write_text("- [x] 2506.01939 → [entry](entries/x.md)\n", encoding="utf-8")
    assert not read_event(settings, "push", {}, {}, label="paper", papers_file=papers).draft  # all drafted
    assert not read_event(settings, "pull_request_target", {}, {}, label="paper", papers_file=papers).draft


def test_the_pull_request_text_says_who_drafted_what_failed_and_why(diary: Path) -> None:
    summary = {"drafter": "llm:gpt-4o-mini", "llm": {"prompt_tokens": 12000, "completion_tokens": 900,
                                                      "cost_usd": 0.0042},
               "papers": [{"paper": "2506.01939", "status": "drafted", "title": "Routing @everyone <img src=x>",
                           "entry_path": "entries/June 2025/11thJuneRouting.md", "source": "issue:1", "reason": ""},
                          {"paper": "2506.00002", "status": "failed", "title": None, "entry_path": None,
                           "source": "issue:2", "reason": "the PDF is encrypted."}],
               "problems": []}
    text = pull_request_text(load_settings(diary, env={}), summary)
    assert text.title == "Draft: Routing @everyone <img src=x>"
    assert "`gpt-4o-mini`" in text.body and "12,900 tokens" in text.body and "$0.0042" in text.body
    assert "2506.00002 (issue:2): the PDF is encrypted." in text.body
    assert "@everyone" not in text.body and "@\u200beveryone" in text.body
    assert not re.search(r"(?<!\\)<img", text.body) and "\\<img" in text.body


def test_markdown_text_is_inert() -> None:
    assert markdown_text("[x](javascript:1) @bob\nnext") == "\\[x\\]\\(javascript:1\\) @\u200bbob next"
    assert markdown_text("**bold** [x](y)", emphasis=True) == "**bold** \\[x\\](y)"


def test_a_summary_that_is_not_one_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(UsageError, match="not a catch-up summary"):
        read_summary(path)


def test_ci_event_outside_github_says_so(diary: Path) -> None:
    done = run_cli("ci", "event", "--papers-file", "p.md", cwd=diary, env=clean_env())
    assert done.returncode == 2 and "GITHUB_EVENT_NAME" in done.stderr and "Traceback" not in done.stderr
