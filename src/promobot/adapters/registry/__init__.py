"""Registry adapters: where promobot reads tags, digests and labels of built images."""
