"""Benchmark 5, diff: two environments 5,000 commits apart in a repository of 100,000 commits.

promobot's side is what `queries.diff` does for one app once it knows both source commits: the commits
between them (GitAppRepo.log, newest 50 and the total), how far the other way they are (log, limit 0)
and the changed files (GitAppRepo.changed_files), on its warm mirror. The floor is the CLI on the same
mirror: `git log --oneline A..B` plus `git diff --stat A B`. Runs alternate; medians and ratio reported.
The mirror refresh `queries.diff` may add is measured on its own (a fetch with nothing new).
"""

from __future__ import annotations

import time

import repos
from common import emit, git, median, ms, note, scratch, size, timed

from promobot.adapters.git.app_repo import GitAppRepo
from promobot.service.queries import DIFF_COMMIT_LIMIT


def main() -> None:
    commits, apart, runs = size(100_000, 2_000), size(5_000, 500), size(30, 3)
    with scratch("diff") as root:
        start = time.perf_counter()
        shas = repos.history(root / "web.git", commits=commits, files=1000)
        note("diff_repository", f"{commits} commits written by git fast-import in {time.perf_counter() - start:.1f} s")
        repo = GitAppRepo(str(root / "web.git"), root / "mirror.git")
        repo.refresh()  # the mirror's first fetch: warm from here on
        mirror = repo.mirror.path
        pair = [shas[-1 - apart], shas[-1]]  # each run moves both ends one commit back: nothing is cached

        def ours() -> None:
            a, b = pair
            found, total = repo.log(a, b, limit=DIFF_COMMIT_LIMIT)
            behind = repo.log(b, a, limit=0)[1]
            files = repo.changed_files(a, b)
            assert total == apart and behind == 0 and len(found) == DIFF_COMMIT_LIMIT and files

        def cli() -> None:
            a, b = pair
            git("log", "--oneline", f"{a}..{b}", git_dir=mirror)
            git("diff", "--stat", a, b, git_dir=mirror)

        ours()
        cli()
        mine: list[float] = []
        floor: list[float] = []
        fetches: list[float] = []
        for run in range(1, runs + 1):
            pair[:] = [shas[-1 - apart - run], shas[-1 - run]]
            mine.append(timed(ours))
            floor.append(timed(cli))
            fetches.append(timed(repo.refresh))
        emit("diff_promobot_median", ms(median(mine)), "ms")
        emit("diff_git_cli_median", ms(median(floor)), "ms")
        emit("diff_ratio", median(mine) / median(floor), "x")
        emit("diff_mirror_refresh_median", ms(median(fetches)), "ms")
        note("diff_target", "ratio <= 1.3x")


if __name__ == "__main__":
    main()
