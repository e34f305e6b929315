"""The dashboard's command box: the chat grammar (`/promote web:dev-1a2b3c4 qa`), run as the signed-in user.

Commands that change something queue an operation and come back to the board with a notice; the ones
that show something open the page that shows it. A refusal raises the same errors as the API.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from fastapi.responses import Response

from promobot.domain import grammar
from promobot.service import requests
from promobot.web.pages import Visit


def run(current: Visit, text: str) -> Response:
    user, ctx = current.user, current.application.ctx
    assert user is not None
    command = grammar.parse(text)
    match command:
        case grammar.Promote(artifact=artifact, env=env):
            operation = requests.promote(ctx, user, artifact, env)
        case grammar.Rollback(target=target, env=env):
            operation = requests.rollback(ctx, user, target, env)
        case grammar.Approve(operation=number):
            return current.redirect(f"/operations/{requests.approve(ctx, user, number).id}")
        case grammar.Status(operation=number):
            return current.redirect(f"/operations/{number}")
        case grammar.History(app=app, env=env):
            return current.redirect(f"/history/{quote(app)}/{quote(env)}")
        case grammar.Diff(src=src, dst=dst, app=app):
            return current.redirect("/diff?" + urlencode({"src": src, "dst": dst, "app": app or ""}))
        case grammar.List():
            return current.redirect("/")
        case grammar.Help(topic=topic):
            return current.redirect("/?" + urlencode({"notice": grammar.usage(topic)}))
    notice = f"operation {operation.id}: {operation.message}"
    return current.redirect("/?" + urlencode({"notice": notice}))
