# `magsim serve` with nothing else in the image: FROM scratch (nothing is pulled, so it builds
# on a Docker engine without a registry) around the statically linked binary that
# scripts/image.sh builds and puts in the build context. Build with `bash scripts/image.sh`.
FROM scratch
COPY magsim /magsim
# scratch has no /tmp: the client files (clouds.yaml, openrc.sh, kubeconfig) go to a directory
# the unprivileged user owns (copied from an empty one in the context).
COPY --chown=65534:65534 magsim-cloud/ /magsim-cloud/
USER 65534:65534
WORKDIR /magsim-cloud
# Keystone, Magnum, Heat, Nova, Kubernetes (`--port 9500` layout).
EXPOSE 9500 9501 9502 9503 9504
ENTRYPOINT ["/magsim"]
# Clients reach the servers through published ports; for a mapping other than 1:1, append
# `--advertise HOST:KEYSTONE_HOST_PORT` (see README "Containers").
CMD ["serve", "--bind", "0.0.0.0", "--port", "9500", "--dir", "/magsim-cloud"]
