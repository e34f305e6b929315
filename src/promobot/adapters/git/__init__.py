"""Git adapters: the application repositories and the GitOps repository, each through a warm bare mirror."""
