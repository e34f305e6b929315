"""The whole story on real git, real OCI images, real processes and both databases, driven by the CLI.

sandbox → serve → a push to develop serves in development → promote (no env) to qa → promote to prod
waits for approval, the requester's approval is refused, release-manager approves → a BROKEN commit
fails while the previous version keeps serving → rollback → list and diff → serve killed mid-promotion
and restarted finishes it once.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import databases
from support.running import Setup, serves, until

pytestmark = pytest.mark.slow


@pytest.fixture(params=databases.KINDS)
def setup(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Setup]:
    with databases.fresh(request.param, tmp_path / "db") as url:
        running = Setup(tmp_path / "sandbox", database_url=url if request.param != databases.SQLITE else None)
        running.start()
        try:
            yield running
        finally:
            running.stop()


def test_an_artifact_travels_from_a_push_to_prod_and_back(setup: Setup) -> None:
    s = setup
    work = s.clone()
    first = s.git("rev-parse", "HEAD", cwd=work)
    until(lambda: s.row("development")["state"] == "healthy", 20, "the first develop commit to deploy")

    # A push to develop is serving in development within 10 s.
    change = s.push(work, "Release version 2", {"VERSION": "2\n"})
    dev = until(
        lambda: (r := s.row("development"))["source_revision"] == change and r["state"] == "healthy" and r,
        10,
        "the pushed commit to be healthy in development",
    )
    assert dev["artifact"] == f"web:dev-{change[:7]}"
    assert dev["deployed_by"] == "Dana Developer"
    assert serves(dev["url"], change)

    # diff names the commit, the changed file and the exact command.
    diff = s.cli_json("diff", "development", "qa", "--app", "web")
    assert diff["src_revision"] == change
    assert [c["subject"] for c in diff["commits"]] == ["Release version 2"]
    assert diff["files"] == ["VERSION"]
    assert diff["instruction"].startswith(f"promobot promote web:dev-{change[:7]} qa")

    # promote with no environment goes to the next one: qa.
    op = s.cli_json("promote", f"web:dev-{change[:7]}", "--wait")
    assert (op["env"], op["state"], op["kind"]) == ("qa", "succeeded", "promote"), op
    assert s.git("rev-parse", "qa^{tree}") == s.git("rev-parse", f"{change}^{{tree}}")
    assert s.git("rev-parse", "qa^2") == change  # the promotion commit names its source as a parent
    assert s.git("rev-parse", f"refs/tags/qa-{change[:7]}^{{commit}}") == s.git("rev-parse", "qa")
    qa = s.row("qa")
    assert qa["artifact"] == f"web:qa-{change[:7]}" and qa["state"] == "healthy"
    assert serves(qa["url"], change)

    # prod waits for an approval by someone else with the right role.
    op = s.cli_json("promote", f"web:qa-{change[:7]}", "prod", "--wait")
    assert op["state"] == "awaiting_approval", op
    own = s.cli("approve", str(op["id"]))
    assert own.returncode != 0
    assert "cannot approve" in own.stderr and len(own.stderr.strip().splitlines()) == 1
    assert s.cli_json("status", str(op["id"]))["state"] == "awaiting_approval"
    done = s.cli_json("approve", str(op["id"]), "--wait", user="release-manager")
    assert done["state"] == "succeeded", done
    prod = s.row("prod")
    assert prod["artifact"] == f"web:prod-{change[:7]}" and serves(prod["url"], change)
    assert s.git("rev-parse", "prod^{tree}") == s.git("rev-parse", f"{change}^{{tree}}")

    # A BROKEN commit fails in development; the previous version keeps serving.
    broken = s.push(work, "Break the health check", {"BROKEN": "yes\n"})
    failed = until(
        lambda: (r := s.row("development"))["source_revision"] == broken and r["state"] == "failed" and r,
        30,
        "the broken commit to fail in development",
    )
    assert failed["artifact"] == f"web:dev-{broken[:7]}"
    assert serves(dev["url"], change)

    # rollback pins the previous healthy artifact again and restores its tree on the branch.
    op = s.cli_json("rollback", "web", "development", "--wait")
    assert op["state"] == "succeeded", op
    back = s.row("development")
    assert (back["artifact"], back["state"]) == (f"web:dev-{change[:7]}", "healthy")
    assert s.git("rev-parse", "develop^{tree}") == s.git("rev-parse", f"{change}^{{tree}}")
    history = s.cli_json("history", "web", "development")
    assert [h["state"] for h in history[:3]] == ["healthy", "failed", "healthy"]

    # list gives every environment, in order, with the JSON keys other tools rely on.
    rows = s.cli_json("list")
    assert [r["env"] for r in rows] == ["development", "qa", "staging", "prod"]
    assert set(rows[0]) >= {"app", "env", "artifact", "source_revision", "state", "deployed_at", "deployed_by", "url"}
    assert rows[2]["state"] == "none"
    assert first != change


def test_serve_killed_mid_promotion_finishes_it_once_after_a_restart(setup: Setup) -> None:
    s = setup
    first = s.git("rev-parse", "develop")
    until(lambda: s.row("development")["state"] == "healthy", 20, "the first develop commit to deploy")
    s.stop()
    s.start(crash_at="promote.branch_pushed")
    op = s.cli_json("promote", f"web:dev-{first[:7]}")
    assert s.wait_exit(30) != 0  # killed itself with SIGKILL right after pushing the promotion commit
    pushed = s.git("log", "--format=%H", f"--grep=Promobot-Operation: {op['id']}$", "qa")
    assert len(pushed.split()) == 1

    s.start()
    done = until(
        lambda: (r := s.cli_json("status", str(op["id"])))["state"] in ("succeeded", "failed") and r,
        30,
        "the interrupted promotion to finish",
    )
    assert done["state"] == "succeeded", done
    assert s.git("log", "--format=%H", f"--grep=Promobot-Operation: {op['id']}$", "qa").split() == pushed.split()
    assert s.git("tag", "--list", "qa-*").split() == [f"qa-{first[:7]}"]
    assert s.row("qa")["state"] == "healthy"


def test_sigterm_stops_serve_cleanly_with_its_apps_and_no_secret_in_its_log(setup: Setup) -> None:
    s = setup
    dev = until(lambda: (r := s.row("development"))["state"] == "healthy" and r, 20, "development to be healthy")
    refused = s.cli("approve", "1", user="release-manager")  # an error path that touches tokens
    assert refused.returncode == 1
    s.stop()
    assert s.process is not None and s.process.returncode in (0, -signal.SIGTERM)
    assert not serves(dev["url"], dev["source_revision"])  # the runtime stopped the app it started
    log = s.log_text()
    assert "operation 1 deploy" in log
    assert "promobot stopped" in log
    for token in (s.root / "tokens").iterdir():
        assert token.read_text().strip() not in log
