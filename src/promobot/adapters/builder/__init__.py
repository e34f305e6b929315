"""The embedded builder: CI's stand-in that turns environment-branch commits into OCI images."""
