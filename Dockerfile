# syntax=docker/dockerfile:1
# prow-rs's container image: `prow` (serve, the controllers, demo, crd, ...), the pod utilities
# (entrypoint, clonerefs, initupload, sidecar) and the CLIs (checkconfig, mkpj, mkpod, phaino,
# phony) in one image, ghcr.io/prow-rs/prow. The targets clonerefs, initupload, entrypoint and
# sidecar are the same image with that utility as its ENTRYPOINT, because decorated pods run
# the utility images without a command, as Prow's do; they add no layer.
#
# Build all five tags with `.ci/build-image` (docker or podman), or one by hand:
#   docker build -t ghcr.io/prow-rs/prow:latest .
#   docker build --target sidecar -t ghcr.io/prow-rs/sidecar:latest .
#
# The binaries are linked statically (glibc's crt-static, OpenSSL and zlib from their static
# libraries, libgit2 and SQLite bundled): the place-entrypoint init container copies
# `entrypoint` into every test container, whatever libc that container's image has.

ARG RUST_VERSION=1.89
ARG DEBIAN=bookworm

FROM rust:${RUST_VERSION}-${DEBIAN} AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends pkg-config libssl-dev zlib1g-dev cmake \
 && rm -rf /var/lib/apt/lists/*
# Fat LTO (the release profile) takes 15-25 minutes on two cores; `--build-arg LTO=false`
# builds in a third of that for a test image.
ARG LTO=fat
ENV CARGO_PROFILE_RELEASE_LTO=${LTO} \
    OPENSSL_STATIC=1 \
    RUSTFLAGS="-C target-feature=+crt-static"
WORKDIR /src
COPY . .
# With an explicit --target, RUSTFLAGS reach only the binaries, not build scripts.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    target="$(rustc -vV | sed -n 's/^host: //p')" \
 && cargo build --release --locked -p prow-cli --bins --target "$target" \
 && mkdir -p /out \
 && for bin in prow checkconfig mkpj mkpod phaino phony entrypoint clonerefs initupload sidecar; do \
      cp "target/$target/release/$bin" /out/; \
    done

FROM debian:${DEBIAN}-slim AS prow
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/ /usr/local/bin/
# Prow's manifests mount config.yaml, plugins.yaml and the secrets under /etc; the data
# directory is for the embedded default (SQLite store, local pods, artifacts).
WORKDIR /var/lib/prow
ENTRYPOINT ["/usr/local/bin/prow"]
CMD ["--help"]

FROM prow AS clonerefs
ENTRYPOINT ["/usr/local/bin/clonerefs"]
CMD []

FROM prow AS initupload
ENTRYPOINT ["/usr/local/bin/initupload"]
CMD []

FROM prow AS entrypoint
ENTRYPOINT ["/usr/local/bin/entrypoint"]
CMD []

FROM prow AS sidecar
ENTRYPOINT ["/usr/local/bin/sidecar"]
CMD []

# The default target: the whole image, `prow` as its command.
FROM prow
