"""The ASGI app: REST API and webhook intake. Thin: parse, call the service layer, render."""
