"""The Kubernetes target. The only package (with its modules) that imports pulumi_kubernetes; `platform`
holds the provider code, `facts` the provider-free answers."""
