"""The embedded setup: `promobot sandbox` creates it, `promobot demo` walks the whole story through it."""
