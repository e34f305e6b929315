"""Sum up a py-spy collapsed-stack file: the functions that hold the most samples, inclusive and self.

    .venv/bin/python bench/profile_summary.py bench/out/profiles/webhook_ingest.txt [--only FRAGMENT]
Only stacks that contain FRAGMENT (default: a request handler, `routing.py`) are counted.
"""

from __future__ import annotations

import argparse
import collections
from pathlib import Path


def frame_name(frame: str) -> str:
    name, _, where = frame.partition(" (")
    return f"{name} ({where.rsplit('/', 1)[-1]}" if where else name


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path", type=Path)
    parser.add_argument("--only", default="routing.py")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in args.path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if args.only not in stack:
            continue
        frames = [frame_name(f) for f in stack.split(";")]
        total += int(count)
        for name in set(frames):
            inclusive[name] += int(count)
        own[frames[-1]] += int(count)
    print(f"{total} samples in stacks containing {args.only!r}")
    print("-- inclusive")
    for name, count in inclusive.most_common(args.top):
        print(f"{100 * count / total:5.1f}%  {name}")
    print("-- self")
    for name, count in own.most_common(args.top // 2):
        print(f"{100 * count / total:5.1f}%  {name}")


if __name__ == "__main__":
    main()
