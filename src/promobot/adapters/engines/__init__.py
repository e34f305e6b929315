"""GitOps engines behind `ports.Engine`: the embedded local runtime (`local`), Argo CD and Flux."""
