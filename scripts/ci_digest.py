"""What failed in a `make test` run, printed last.

CI keeps only the tail of what `make test` prints, and with its two lanes the
failing one is rarely last. This reads the lanes' logs and prints each failed
task (its TASK header and the failure) and each failed test, bounded.
"""
import re
import sys
from pathlib import Path

ANSI = re.compile(r"\x1b\[[0-9;]*m")
# molecule's box drawing before each line of ansible-playbook output
FRAME = re.compile(r"^\s*│\s?")
FAILED = re.compile(r"^(fatal|failed): \[|^FAILED tests/|^ERROR\b|^E\s{3}|(?i:assertion failed)|^\S.*Executed: Failed")
MAX_LINES = 120
FOLLOW = 12


def digest(path):
    """The failure lines of one log, each with the task it was in."""
    out, task, left = [], None, 0
    for raw in path.read_text(errors="replace").splitlines():
        line = FRAME.sub("", ANSI.sub("", raw)).rstrip()
        if line.startswith("TASK ["):
            task = line
        if FAILED.search(line):
            if task and (not out or out[-1] != task):
                out.append(task)
                task = None
            out.append(line)
            left = FOLLOW
        elif left:
            out.append(line)
            left -= 1
    return out


def main(paths):
    lines = []
    for name in paths:
        path = Path(name)
        if path.is_file():
            found = digest(path)
            if found:
                lines += ["== %s" % name] + found
    print("==== what failed (scripts/ci_digest.py; the whole logs are above) ====")
    print("\n".join(lines[:MAX_LINES]) if lines else "no failure line found in %s" % " ".join(paths))
    if len(lines) > MAX_LINES:
        print("... %d more lines" % (len(lines) - MAX_LINES))


if __name__ == "__main__":
    main(sys.argv[1:])
