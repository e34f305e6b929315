"""promobot: a ChatOps promotion system for GitOps."""

__version__ = "0.1.0"
