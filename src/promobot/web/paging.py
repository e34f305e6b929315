"""Pagination of newest-first listings: `limit` and `offset` in, an RFC 8288 `Link: <…>; rel="next"` out."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

NEXT_LINK: dict[str, Any] = {
    "headers": {
        "Link": {
            "description": 'the next page, `<URL>; rel="next"`, when there is one',
            "schema": {"type": "string"},
        }
    }
}


def link_next(request: Request, response: Response, *, more: bool, offset: int) -> None:
    """Point at the page starting at `offset` when there is more; the other query parameters are kept."""
    if more:
        url = request.url.include_query_params(offset=offset)
        response.headers["Link"] = f'<{url.path}?{url.query}>; rel="next"'
