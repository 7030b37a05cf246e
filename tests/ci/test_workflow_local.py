"""The workflow `paperdiary ci init` writes, run locally step by step on a fixture diary repository against the
arXiv look-alike, for the payloads GitHub sends (tests/fixtures/github-events/): a push to the reading list, an
issue labelled `paper`, a run by hand; and the cases that must do nothing: an issue by someone who is not a
collaborator, another label, a title and body written to run commands."""

from __future__ import annotations

import copy
import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.ci.runner import PR_URL, JobRun, run_job
from tests.conftest import REPO, clean_env, run_cli
from tests.fakes import pdfs
from tests.fakes.arxiv_server import FakeArxiv

pytestmark = pytest.mark.slow
EVENTS = REPO / "tests" / "fixtures" / "github-events"
PAPERS = {  # made up here, in the shape of real abstracts
    "2506.41001": ("Prolonged Reinforcement Learning Expands Reasoning Boundaries",
                   "We show that long reinforcement learning runs with KL control and periodic reference resets "
                   "uncover reasoning strategies the base model never samples, on math, code and logic puzzles."),
    "2506.41003": ("Forking Tokens: A Minority of High-Entropy Tokens Steers Reasoning",
                   "We find that about a fifth of the tokens in chain-of-thought traces carry high entropy and "
                   "decide the reasoning path; training only on them matches full-token training."),
    "2506.41004": ("Sparse Routing for Mixture-of-Experts Language Models",
                   "We propose a router that sends each token to one expert chosen by a learned hash, halving the "
                   "communication of top-2 routing at equal quality on language modelling benchmarks."),
    "2506.41005": ("Diffusion Policies for Visuomotor Control",
                   "We represent a robot's visuomotor policy as a conditional denoising diffusion process over "
                   "action chunks and outperform prior imitation learning methods on twelve tasks."),
}
BROKEN = "2506.41002"  # its PDF is not a PDF: it fails, the others still go into the pull request
READING_LIST = (
    "# Reading list\n"
    "<!-- appended from my phone -->\n\n"
    "- [ ] https://arxiv.org/abs/2506.41001 2026-12-05\n"
    f"- [ ] {BROKEN}  # the broken one\n"
)


def event(name: str, **changes: Any) -> dict[str, Any]:
    payload = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    for path, value in changes.items():
        target = payload
        *parents, last = path.split("__")
        for part in parents:
            target = target[part]
        target[last] = value
    return copy.deepcopy(payload)


@pytest.fixture(scope="module")
def arxiv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeArxiv]:
    pdf = pdfs.make_paper_pdf(tmp_path_factory.mktemp("pdf") / "p.pdf", **pdfs.generate_paper(2, seed=4)).read_bytes()
    with FakeArxiv() as fake:
        for arxiv_id, (title, abstract) in PAPERS.items():
            fake.add_paper(arxiv_id, title=title, abstract=abstract, pdf_bytes=pdf)
        fake.add_paper(BROKEN, title="A Paper Whose PDF Is Broken", pdf_bytes=b"<html>not a pdf</html>")
        yield fake


@pytest.fixture(scope="module")
def template_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A diary repository as GitHub would check it out: the workflow and the reading list committed."""
    root = tmp_path_factory.mktemp("origin") / "diary"
    assert run_cli("init", str(root), "--git").returncode == 0
    (root / "READING-LIST.md").write_text(READING_LIST, encoding="utf-8")
    init = run_cli("ci", "init", "--branch", "main", cwd=root)
    assert init.returncode == 0, init.stderr
    git(root, "add", "-A")
    git(root, "-c", "user.name=Ada", "-c", "user.email=ada@example.org", "commit", "-q", "-m", "diary")
    git(root, "branch", "-M", "main")
    return root


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def checkout(template_repo: Path, tmp_path: Path) -> Path:
    clone = tmp_path / "workspace"
    git(tmp_path, "clone", "-q", str(template_repo), str(clone))
    return clone


def run(checkout: Path, arxiv: FakeArxiv, tmp_path: Path, name: str, payload: dict[str, Any]) -> JobRun:
    env = clean_env(PAPERDIARY_ARXIV_API=arxiv.api_url, PAPERDIARY_ARXIV_DELAY="0", PAPERDIARY_HTTP_TIMEOUT="5",
                    PAPERDIARY_RETRY_MAX_TIME="5")
    return run_job(checkout / ".github/workflows/paperdiary.yml", checkout, name, payload, tmp_path / "runner",
                   base_env=env)


def ran(job: JobRun) -> list[str]:
    return [s.name for s in job.steps if s.ran]


def failed(job: JobRun) -> str:
    return "\n".join(f"{s.name}: {s.returncode}\n{s.stdout}\n{s.stderr}" for s in job.steps if s.returncode)


def branch_files(repo: Path, branch: str) -> list[str]:
    return git(repo, "diff", "--name-only", f"main..{branch}").splitlines()


def body_of(tmp_path: Path) -> str:
    return (tmp_path / "runner" / "runner-temp" / "pr-body.md").read_text(encoding="utf-8")


def test_a_push_to_the_reading_list_drafts_it_ticks_it_and_opens_one_pull_request(
        checkout: Path, arxiv: FakeArxiv, tmp_path: Path) -> None:
    job = run(checkout, arxiv, tmp_path, "push", event("push.json"))
    assert job.started and not failed(job), failed(job)
    assert "Draft the reading list" in ran(job) and "Draft the papers given" not in ran(job)
    assert "Answer the issue" not in ran(job) and job.gh_calls == []
    assert job.pip_installs == [["-m", "pip", "install", "paperdiary"]]
    (pr,) = job.pull_requests
    assert pr["branch"] == "paperdiary/reading-list"
    assert pr["title"] == f"Draft: {PAPERS['2506.41001'][0]}"
    files = branch_files(checkout, "paperdiary/reading-list")
    entries = [f for f in files if f.startswith("entries/")]
    assert len(entries) == 1 and "READING-LIST.md" in files and "LESSONS-QUEUE.md" in files
    listed = git(checkout, "show", "paperdiary/reading-list:READING-LIST.md")
    assert "- [x] https://arxiv.org/abs/2506.41001 2026-12-05 → [entry](" in listed
    assert f"- [ ] {BROKEN}" in listed  # the failed one waits for the next run
    body = body_of(tmp_path)
    assert "offline drafter" in body and "1 drafted" in body and "1 failed" in body
    assert PAPERS["2506.41001"][0] in body and entries[0].replace(" ", " ") in body.replace("\\", "")
    not_drafted = body.split("### Not drafted", 1)[1].split("###", 1)[0]
    assert BROKEN in not_drafted and "PDF" in not_drafted  # the reason, in the body
    lessons = body.split("### Lessons queued for review", 1)[1]
    assert lessons.count("- [ ] ") >= 1 and "paperdiary review apply" in body
    assert re.search(r"→ \*(add to|new theme|cite beside) ", lessons)  # where review would put it


def test_an_issue_labelled_paper_by_the_owner_drafts_its_links_comments_and_closes_it(
        checkout: Path, arxiv: FakeArxiv, tmp_path: Path) -> None:
    job = run(checkout, arxiv, tmp_path, "issues", event("issues-labeled.json"))
    assert job.started and not failed(job), failed(job)
    assert "Draft the papers given" in ran(job) and "Draft the reading list" not in ran(job)
    (pr,) = job.pull_requests
    assert pr["branch"] == "paperdiary/issue-12" and pr["title"].startswith("Draft 2 papers: ")
    entries = [f for f in branch_files(checkout, "paperdiary/issue-12") if f.startswith("entries/")]
    assert len(entries) == 2
    texts = "".join(git(checkout, "show", f"paperdiary/issue-12:{e}") for e in entries)
    assert PAPERS["2506.41003"][0] in texts and PAPERS["2506.41004"][0] in texts
    assert "READING-LIST.md" not in branch_files(checkout, "paperdiary/issue-12")
    assert job.gh_calls == [["issue", "close", "12", "--repo", "ada-reads/diary", "--comment",
                             f"Drafted in {PR_URL}: review and merge it."]]


def test_a_run_by_hand_drafts_its_papers_input(checkout: Path, arxiv: FakeArxiv, tmp_path: Path) -> None:
    job = run(checkout, arxiv, tmp_path, "workflow_dispatch", event("workflow_dispatch.json"))
    assert job.started and not failed(job), failed(job)
    (pr,) = job.pull_requests
    assert pr["branch"] == "paperdiary/run-4242"
    entries = [f for f in branch_files(checkout, "paperdiary/run-4242") if f.startswith("entries/")]
    assert len(entries) == 2 and job.gh_calls == []
    assert "2 drafted, 0 skipped, 0 failed" in body_of(tmp_path)


@pytest.mark.parametrize("association", ["NONE", "CONTRIBUTOR", "FIRST_TIME_CONTRIBUTOR"])
def test_an_issue_from_someone_who_is_not_a_collaborator_does_nothing(
        checkout: Path, arxiv: FakeArxiv, tmp_path: Path, association: str) -> None:
    payload = event("issues-labeled.json", issue__author_association=association)
    before = len(arxiv.requests)
    job = run(checkout, arxiv, tmp_path, "issues", payload)
    assert not job.started and job.steps == [] and job.pull_requests == [] and job.gh_calls == []
    assert len(arxiv.requests) == before
    # and were the job's condition lost, its first step still refuses it
    decided = event_step(checkout, tmp_path, "issues", payload)
    assert decided["draft"] == "false" and "not the owner or a collaborator" in decided["reason"]


def test_another_label_does_nothing(checkout: Path, arxiv: FakeArxiv, tmp_path: Path) -> None:
    payload = event("issues-labeled.json", label__name="question")
    job = run(checkout, arxiv, tmp_path, "issues", payload)
    assert not job.started and job.pull_requests == []


def test_an_issue_title_and_body_written_to_run_commands_run_nothing(
        checkout: Path, arxiv: FakeArxiv, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    hostile = f"$(touch {marker}-1) `touch {marker}-2` ${{{{ github.token }}}} \"; touch {marker}-3; echo \""
    payload = event("issues-labeled.json", issue__title=f"Paper {hostile}",
                    issue__body=f"{hostile}\n'$(touch {marker}-4)'\nhttps://arxiv.org/abs/2506.41005")
    job = run(checkout, arxiv, tmp_path, "issues", payload)
    assert job.started and not failed(job), failed(job)
    assert not list(tmp_path.glob("pwned*")) and not list(checkout.glob("**/pwned*"))
    (pr,) = job.pull_requests
    assert "touch" not in pr["title"]  # the pull request is named after the paper, not the issue
    entries = [f for f in branch_files(checkout, "paperdiary/issue-12") if f.startswith("entries/")]
    assert len(entries) == 1


def test_no_run_script_interpolates_an_expression(template_repo: Path) -> None:
    """Untrusted text reaches the scripts only through environment variables: no ${{ }} inside a run:."""
    workflow = yaml.safe_load((template_repo / ".github/workflows/paperdiary.yml").read_text(encoding="utf-8"))
    scripts = [step["run"] for job in workflow["jobs"].values() for step in job["steps"] if "run" in step]
    assert len(scripts) >= 5 and not [s for s in scripts if "${{" in s]
    envs = [step.get("env", {}) for job in workflow["jobs"].values() for step in job["steps"]]
    assert {"ISSUE_BODY": "${{ github.event.issue.body }}"}.items() <= next(e for e in envs if "ISSUE_BODY" in e).items()


def event_step(repo: Path, tmp_path: Path, name: str, payload: dict[str, Any]) -> dict[str, str]:
    path = tmp_path / "direct-event.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    output = tmp_path / "direct-output"
    done = run_cli("--json", "ci", "event", "--papers-file", str(tmp_path / "papers.md"), cwd=repo,
                   env=clean_env(GITHUB_EVENT_NAME=name, GITHUB_EVENT_PATH=str(path), GITHUB_OUTPUT=str(output),
                                 ISSUE_BODY=payload.get("issue", {}).get("body", "")))
    assert done.returncode == 0, done.stderr
    assert "draft=false" in output.read_text(encoding="utf-8")
    return json.loads(done.stdout)
