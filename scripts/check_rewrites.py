"""Check that `index --write` and `reorganize` never damage a real diary: run them on copies of diaries
(git bundles or repositories) and print pass/fail per check.

    python scripts/check_rewrites.py ../shared/diaries/*.bundle [--truth-dir ../shared/diaries/truth]

index (run twice):
  I1 the second run changes nothing;
  I2 every line of the README is kept verbatim and in place (lines are only inserted);
  I3 one index section: when the README had one, only month/year headings are added, else one section;
  I4 no entry is linked twice: no added line links an entry the section linked already, nor one twice.
reorganize to 'by-topic/{theme}/{short_name}.md', then to '{theme}/{short_name}.md' (committing between):
  R1 every link that resolved before still resolves, read as CommonMark by plain markdown-it-py;
  R2 every link that did not lead to an existing file, and every link to a file that is not moved from a
     file that is not moved, is byte-identical;
  R3 git status shows only renames and modified files, and a modified file differs only in link destinations;
  R4 no file the truth file lists as a non-note is moved (with --truth-dir);
  and, for information, whether the second layout gives back the original tree byte for byte.
Exit status 1 when a check fails.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import posixpath
import re
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote

from paperdiary.diary.links import repository_file
from paperdiary.diary.markdown import parse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.diary.commonmark import link_destinations  # noqa: E402

LAYOUTS = ("by-topic/{theme}/{short_name}.md", "{theme}/{short_name}.md")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
failures = 0


def report(code: str, ok: bool, what: str, detail: str = "") -> None:
    global failures
    failures += not ok
    print(f"  {'PASS' if ok else 'FAIL'} {code} {what}" + (f": {detail}" if detail else ""))


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), "-c", "core.fsmonitor=false", *args], check=True,
                          capture_output=True, text=True).stdout


def paperdiary(root: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERDIARY_", "OPENAI_"))}
    env |= {"HOME": str(home), "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "paperdiary", *args], cwd=root, env=env, capture_output=True,
                          text=True, timeout=900)


def markdown_files(root: Path) -> dict[str, str]:
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and rel.lower().endswith((".md", ".markdown")) and not any(
                part.startswith(".") for part in rel.split("/")):
            out[rel] = path.read_text(encoding="utf-8", errors="surrogateescape")
    return out


def resolved(root: Path, relpath: str, href: str) -> str | None:
    """The diary file a destination leads to, when it exists."""
    if (own := repository_file(href)) is not None:  # this repository's file as a GitHub page
        return own if (root / own).is_file() else None
    target = unquote(re.split(r"[?#]", href, maxsplit=1)[0])
    if not target or target.startswith("//") or _SCHEME.match(target):
        return None
    folder = posixpath.dirname(relpath)
    path = posixpath.normpath(target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target))
    if path.startswith("../") or path == "..":
        return None
    return path if (root / path).exists() else None


def resolving_links(root: Path, files: dict[str, str]) -> dict[str, Counter[str]]:
    return {rel: Counter(t for href in link_destinations(text) if (t := resolved(root, rel, href)))
            for rel, text in files.items()}


# --------------------------------------------------------------------------- index


def check_index(root: Path, home: Path) -> None:
    tree_before = markdown_files(root)
    first = paperdiary(root, home, "index", "--write", "--json")
    if first.returncode != 0:
        report("I0", False, "index --write runs", first.stderr.strip().splitlines()[-1:][0] if first.stderr else "")
        return
    info = json.loads(first.stdout)
    name = info.get("file", "README.md")
    before, after = tree_before[name], (root / name).read_text(encoding="utf-8")
    others = {rel for rel, text in markdown_files(root).items() if rel != name and tree_before.get(rel) != text}
    report("I0", not others, f"only {name} changed", ", ".join(sorted(others)[:3]))
    tree_after = markdown_files(root)
    second = paperdiary(root, home, "index", "--write", "--json")
    report("I1", second.returncode == 0 and markdown_files(root) == tree_after, "a second index --write changes nothing")
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    changes = [op for op in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes() if op[0] != "equal"]
    report("I2", all(op[0] == "insert" for op in changes), "every README line kept verbatim and in place",
           f"{sum(op[0] != 'insert' for op in changes)} replaced or deleted runs")
    added = [line for op in changes for line in new[op[3]:op[4]]]
    added_headings = [line.strip() for line in added if re.match(r" {0,3}#{1,6}\s", line)]
    found = bool(info.get("section_found"))
    dated = re.compile(r"#+\s+(?:\d{4}(?:-\d{2})?|[A-Za-z]{3,9}\.?(?:\s+\d{4})?)\s*$")
    odd = [h for h in added_headings if not dated.fullmatch(h)]
    report("I3", (not odd) if found else len(odd) == 1, "one index section",
           (f"found in {name} under {info.get('section_heading')!r}" if found and info.get("section_heading")
            else f"found in {name}: its period headings" if found else f"none in {name}: one appended")
           + f", added {len(added_headings)} headings ({len(odd)} not months)")
    start, end = info.get("section_lines") or [0, 0]
    section_before = "".join(old[start:end]) if found else ""
    linked_before = {t for href in link_destinations(section_before) if (t := resolved(root, name, href))}
    added_targets = [t for href in link_destinations("".join(added)) if (t := resolved(root, name, href))]
    again = [t for t, n in Counter(added_targets).items() if n > 1 or t in linked_before]
    report("I4", not again, "no entry linked twice",
           f"{len(added_targets)} entries added" + (f", {len(again)} twice: {again[:3]}" if again else ""))


# --------------------------------------------------------------------------- reorganize


def _cut_destinations(text: str) -> tuple[str, list[str]]:
    doc = parse(text)
    spans = sorted(link.dest for link in doc.links if link.dest is not None)
    out, last, written = [], 0, []
    for span in spans:
        out.append(text[last:span.start])
        written.append(text[span.start:span.end])
        last = span.end
    return "".join(out) + text[last:], written


def check_reorganize_step(root: Path, home: Path, layout: str, non_notes: set[str], step: str) -> dict[str, str]:
    files = markdown_files(root)
    links = resolving_links(root, files)
    before_targets = {rel: {link.span.start: resolved(root, rel, link.href) for link in parse(text).links
                            if link.dest is not None} for rel, text in files.items()}
    done = paperdiary(root, home, "reorganize", "--layout", layout, "--default-theme", "Unsorted", "--yes", "--json")
    if done.returncode != 0:
        report(f"R0{step}", False, f"reorganize --layout {layout!r} runs", done.stderr.strip()[-300:])
        return {}
    plan = json.loads(done.stdout)
    moves = {m["from"]: m["to"] for m in plan["moves"]}
    skipped = Counter(s["reason"].split(":")[0] for s in plan["skipped"])
    print(f"  {layout!r}: {len(moves)} moved, {len(plan['skipped'])} stayed" +
          (f" ({', '.join(f'{n} {why}' for why, n in skipped.most_common(3))})" if skipped else ""))
    new_files = markdown_files(root)
    new_links = resolving_links(root, new_files)
    lost = 0
    for rel, targets in links.items():
        wanted = Counter({moves.get(t, t): n for t, n in targets.items()})
        have = new_links.get(moves.get(rel, rel), Counter())
        lost += sum((wanted - have).values())
    report(f"R1{step}", lost == 0, "every link that resolved before still resolves (CommonMark)",
           f"{sum(sum(c.values()) for c in links.values())} links, {lost} lost")
    changed = 0
    for rel, text in files.items():
        new_text = new_files.get(moves.get(rel, rel))
        if new_text is None or new_text == text:
            continue
        old_links, now_links = parse(text).links, parse(new_text).links
        if len(old_links) != len(now_links):
            changed += abs(len(old_links) - len(now_links))
            continue
        for a, b in zip(old_links, now_links, strict=True):
            target = before_targets[rel].get(a.span.start)
            may_change = target is not None and (target in moves or rel in moves)
            if not may_change and a.written != b.written:
                changed += 1
    report(f"R2{step}", changed == 0, "links that are not to a moved entry are byte-identical",
           f"{changed} changed")
    fields = git(root, "status", "--porcelain", "-z", "--untracked-files=all").split("\0")
    codes: Counter[str] = Counter()
    while fields:
        field = fields.pop(0)
        if field:
            codes[field[:2]] += 1
            if field[0] in "RC":
                fields.pop(0)  # a rename's source path
    odd = {code: n for code, n in codes.items() if code.strip() not in ("R", "RM", "M")}
    only_links = 0
    for rel, text in files.items():
        new_text = new_files.get(moves.get(rel, rel))
        if new_text is not None and new_text != text and _cut_destinations(new_text)[0] != _cut_destinations(text)[0]:
            only_links += 1
    report(f"R3{step}", not odd and only_links == 0, "git status shows only renames and link edits",
           f"{dict(codes)}" + (f", {only_links} files changed beyond their links" if only_links else ""))
    if non_notes:
        wrong = sorted(set(moves) & non_notes)
        report(f"R4{step}", not wrong, "no non-note moved", ", ".join(wrong[:3]))
    git(root, "add", "-A")
    git(root, "-c", "user.name=check", "-c", "user.email=check@example.org", "commit", "-q", "--allow-empty",
        "-m", f"reorganize {layout}")
    return moves


def check_diary(source: Path, truth_dir: Path | None, keep: bool, parts: Sequence[str]) -> None:
    name = source.name.removesuffix(".bundle")
    print(name)
    truth: dict = {}
    if truth_dir and (truth_dir / f"{name}.json").exists():
        truth = json.loads((truth_dir / f"{name}.json").read_text(encoding="utf-8"))
    non_notes = {n["path"] for n in truth.get("non_notes", [])}
    with tempfile.TemporaryDirectory(prefix="check-rewrites-") as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        for part in parts:
            root = Path(tmp) / part
            subprocess.run(["git", "clone", "-q", str(source), str(root)], check=True)
            (root / ".git" / "info").mkdir(exist_ok=True)
            with open(root / ".git" / "info" / "exclude", "a", encoding="utf-8") as exclude:
                exclude.write(".paperdiary/\n")
            if part == "index":
                check_index(root, home)
                continue
            original = {rel: (root / rel).read_bytes() for rel in git(root, "ls-files", "-z").split("\0") if rel}
            for n, layout in enumerate(LAYOUTS, 1):
                check_reorganize_step(root, home, layout, non_notes, f".{n}")
            now = {rel: (root / rel).read_bytes() for rel in git(root, "ls-files", "-z").split("\0") if rel}
            print(f"  info: back to the original tree byte for byte: {'yes' if now == original else 'no'}"
                  f" ({len(set(now.items()) ^ set(original.items()))} differences)")
        if keep:
            kept = Path(tempfile.mkdtemp(prefix=f"check-rewrites-{name}-"))
            subprocess.run(["cp", "-a", tmp + "/.", str(kept)], check=True)
            print(f"  kept in {kept}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("diaries", nargs="+", type=Path, help="git bundles or repositories")
    parser.add_argument("--truth-dir", type=Path, help="truth/NAME.json files (their non_notes)")
    parser.add_argument("--keep", action="store_true", help="keep the worked copies")
    parser.add_argument("--only", choices=("index", "reorganize"), help="run one command's checks")
    args = parser.parse_args()
    for source in args.diaries:
        check_diary(source.resolve(), args.truth_dir, args.keep, [args.only] if args.only else ["index", "reorganize"])
    print(f"{'all checks passed' if not failures else f'{failures} checks failed'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
