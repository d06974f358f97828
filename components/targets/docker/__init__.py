"""The Docker target. The only package (with its modules) that imports pulumi_docker; `platform` holds
the provider code, `facts` the provider-free answers."""
