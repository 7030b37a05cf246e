"""Secrets never reach the terminal, even with --debug: a server echoing the key, credentials in the base URL."""

from __future__ import annotations

import base64
import logging

import pytest

from paperdiary.redact import REDACTED, RedactingFilter, redact, redacted_traceback, url_secrets
from tests.conftest import clean_env, run_cli
from tests.fakes import pdfs
from tests.fakes.llm_answers import DraftingModel
from tests.fakes.llm_server import FakeLLM

ARXIV_ID = "2506.01939"
KEY = "local-7Hq2pX9vLr4mZt8K"  # not key-shaped: only knowing the key can take it out


@pytest.fixture(scope="module")
def short_pdf(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("pdf") / "short.pdf"
    return pdfs.make_paper_pdf(path, **pdfs.generate_paper(5, seed=1)).read_bytes()


def env_for(arxiv, base_url: str, **extra: str) -> dict[str, str]:
    return clean_env(PAPERDIARY_ARXIV_API=arxiv.api_url, PAPERDIARY_ARXIV_DELAY="0", PAPERDIARY_MODEL="fake-model",
                     PAPERDIARY_RETRY_MAX_TIME="1", PAPERDIARY_LLM_TIMEOUT="5", OPENAI_BASE_URL=base_url, **extra)


@pytest.mark.parametrize("code", [400, 500])
def test_a_debug_run_never_shows_the_key_a_server_echoes(diary, fake_arxiv, short_pdf, code: int) -> None:
    fake_arxiv.add_paper(ARXIV_ID, pdf_bytes=short_pdf)
    with FakeLLM() as llm:
        for _ in range(8):  # a 500 is retried: every try gets the echo
            llm.inject("status", code=code, message="Invalid request", echo_headers=True)
        result = run_cli("--debug", "draft", ARXIV_ID, env=env_for(fake_arxiv, llm.base_url, OPENAI_API_KEY=KEY),
                         cwd=diary)
        sent = llm.completion_requests[0].headers["Authorization"]
    assert sent == f"Bearer {KEY}"  # the key went out, and the server put it in its error body
    output = result.stdout + result.stderr
    assert result.returncode == 1 and "Traceback (most recent call last)" in result.stderr
    assert "headers:" in output and REDACTED in output  # the echo was shown, the key taken out
    assert KEY not in output and KEY[-8:] not in output
    assert any(line.startswith("error: ") for line in result.stderr.splitlines())


def test_credentials_in_the_base_url_stay_out_of_debug_logs(diary, fake_arxiv, short_pdf) -> None:
    fake_arxiv.add_paper(ARXIV_ID, pdf_bytes=short_pdf)
    with FakeLLM() as llm:
        llm.script(DraftingModel())
        host = llm.base_url.split("//")[1]
        base_url = f"http://alice:s3cr3t-Pa55word@{host}?api-key=qk-9f8e7d6c5b4a3210"
        result = run_cli("--debug", "draft", ARXIV_ID, env=env_for(fake_arxiv, base_url), cwd=diary)
    output = result.stdout + result.stderr
    assert "HTTP Request" in output or "Request options" in output, output[-2000:]  # the debug HTTP log ran
    basic = base64.b64encode(b"alice:s3cr3t-Pa55word").decode()
    for secret in ("s3cr3t-Pa55word", "qk-9f8e7d6c5b4a3210", basic):
        assert secret not in output


def test_redact_takes_credentials_out_of_urls() -> None:
    text = ("GET https://user:pa55w0rd@host.example/v1/models?api-key=abc123&x=1 "
            "then http://h/v1?key=k1&token=t1&sig=s1 and {'authorization': 'Basic dXNlcjpwYXNz'}")
    cleaned = redact(text, [])
    for secret in ("user:pa55w0rd", "abc123", "k1", "t1", "s1", "dXNlcjpwYXNz"):
        assert secret not in cleaned
    assert "https://[REDACTED]@host.example/v1/models?api-key=[REDACTED]&x=1" in cleaned
    assert "a basic idea, a token of thanks" == redact("a basic idea, a token of thanks", [])
    assert set(url_secrets("http://u:p%40ss@h/v1?api_key=zz&model=m")) >= {"p@ss", "zz"}


def test_tracebacks_are_redacted_through_their_chain_and_notes() -> None:
    def fail() -> None:
        try:
            raise ValueError(f"server said: Authorization: Bearer {KEY}")
        except ValueError as inner:
            outer = RuntimeError("request failed", KEY)
            outer.add_note(f"key was {KEY}")
            raise outer from inner

    with pytest.raises(RuntimeError) as info:
        fail()
    text = redacted_traceback(info.value, [KEY])
    assert "ValueError" in text and "RuntimeError" in text and "key was" in text
    assert KEY not in text and KEY[-8:] not in text


def test_the_log_filter_redacts_args_tracebacks_and_urls() -> None:
    record = logging.LogRecord("httpx", logging.DEBUG, __file__, 1, "HTTP Request: %s %s", (
        "POST", "http://bob:hunter2hunter2@127.0.0.1/v1?api-key=zz-top-secret"), None)
    try:
        raise OSError(f"echo {KEY}")
    except OSError:
        import sys

        record.exc_info = sys.exc_info()
    assert RedactingFilter([KEY]).filter(record)
    shown = logging.Formatter().format(record)
    assert "HTTP Request: POST" in shown and "OSError" in shown
    for secret in (KEY, "hunter2hunter2", "zz-top-secret"):
        assert secret not in shown


def test_a_worker_threads_traceback_is_redacted_too() -> None:
    import subprocess
    import sys

    code = ("import sys, threading; from paperdiary.cli import main as m; "
            "threading.excepthook = m._thread_failed; "
            f"t = threading.Thread(target=lambda: (_ for _ in ()).throw(RuntimeError('echo {KEY}'))); "
            "t.start(); t.join()")
    result = subprocess.run([sys.executable, "-c", code], env=clean_env(OPENAI_API_KEY=KEY), capture_output=True,
                            text=True, timeout=60)
    assert "Exception in thread" in result.stderr and "RuntimeError: echo [REDACTED]" in result.stderr
    assert KEY not in result.stderr
