"""One adapter per outside system, each behind a port of `promobot.ports`."""
