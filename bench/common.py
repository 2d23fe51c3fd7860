"""Shared helpers for the benchmark scripts: test data paths, script excerpts, machine description."""

from __future__ import annotations

import os
import platform
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".." / "shared" / "data"


def require_data() -> Path:
    """Return the shared data folder or exit with a clear message."""
    if not DATA.is_dir():
        raise SystemExit(f"benchmark data not found at {DATA.resolve()}: check out ../shared beside the repository")
    return DATA


def zh_news_scripts() -> list[tuple[str, str]]:
    """Return (category, text) for each curated Chinese news script."""
    rows = (require_data() / "news_text" / "zh_news_scripts.tsv").read_text(encoding="utf-8").splitlines()[1:]
    return [(row.split("\t")[0], row.split("\t")[-1]) for row in rows if row.strip()]


def thucnews_texts() -> list[str]:
    """Return the texts of the 800 THUCNews articles."""
    path = require_data() / "news_text" / "zh_thucnews_800.tsv"
    return [line.split("\t", 1)[1] for line in path.read_text(encoding="utf-8").splitlines() if "\t" in line]


def cut_at_sentence(text: str, max_chars: int) -> str:
    """Return the longest prefix of whole sentences with at most `max_chars` characters (at least one sentence)."""
    sentences = re.findall(r"[^。！？!?]+[。！？!?]+", text)
    result = ""
    for sentence in sentences:
        if result and len(result) + len(sentence) > max_chars:
            break
        result += sentence
    return result or text[:max_chars]


def record(title: str, command: str, notes: str, table: str) -> None:
    """Append a result section to docs/benchmarks.md with the date, commit, command and machine."""
    import time

    section = (f"\n## {title} ({time.strftime('%Y-%m-%d')}, {git_revision()})\n\n"
               f"Command: `{command}`  \nMachine: {machine()}  \n{notes}\n\n{table}\n")
    with (ROOT / "docs" / "benchmarks.md").open("a", encoding="utf-8") as handle:
        handle.write(section)


def machine() -> str:
    """Describe this machine in one line for benchmark records."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        memory = f", {kib / 2**20:.0f} GiB"
    except (OSError, AttributeError):
        pass
    return f"{cpu}, {os.cpu_count()} cores{memory}, Python {platform.python_version()}"


def git_revision() -> str:
    """Return the short commit hash of the checkout, marked dirty when it has changes."""
    try:
        revision = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                                  text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain"], capture_output=True, text=True,
                               check=True).stdout.strip()
        return revision + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
