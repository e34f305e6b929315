"""Forges: where pull requests for approval environments live (the embedded local one, GitHub, GitLab)."""
