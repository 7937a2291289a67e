"""The Kubernetes adapter: kubeconfig and connection, the reader, the writer. The only importer of `kubernetes`."""
