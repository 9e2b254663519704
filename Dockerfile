# syntax=docker/dockerfile:1.7
# scim-sidecar image: a release build (thin LTO, one codegen unit, symbols
# stripped: see [profile.release] in Cargo.toml) on distroless glibc without
# OpenSSL (TLS is rustls), running as the distroless `nonroot` user, given
# by number (65532) so that Kubernetes' runAsNonRoot can verify it.
#
#   docker build --build-arg SCIM_SIDECAR_GIT_COMMIT="$(git rev-parse --short HEAD)" \
#     -t scim-sidecar .
#   docker run --rm -p 8080:8080 -p 9090:9090 \
#     -v "$PWD/my-config:/etc/scim-sidecar/config:ro" -e APP_API_KEY scim-sidecar
#
# The config directory holds config.toml; inside a container its listeners
# must be `listen = "0.0.0.0:8080"` and `admin_listen = "0.0.0.0:9090"`.
# Mount it as a directory (never a subPath) so ConfigMap updates arrive.
# docs/kubernetes.md runs it as a native sidecar.

ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-bookworm AS build
WORKDIR /src

# 1. Dependencies only. This layer is rebuilt only when the manifest, the
#    lock file, the build script or the bench list change, not on every
#    source edit.
COPY Cargo.toml Cargo.lock build.rs ./
COPY benches ./benches
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    mkdir src \
 && echo 'fn main() {}' > src/main.rs \
 && touch src/lib.rs \
 && cargo build --release --locked --bin scim-sidecar \
 && rm -rf src

# 2. The sidecar. The touch makes cargo rebuild over the stub's outputs
#    whatever the copied files' timestamps are. The build context has no
#    .git: `--version` names the commit given here ("unknown" without it).
#    Declared after step 1 so that a new commit keeps its cache.
ARG SCIM_SIDECAR_GIT_COMMIT=""
COPY src ./src
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    touch src/main.rs src/lib.rs \
 && cargo build --release --locked --bin scim-sidecar \
 && mkdir -p /out/usr/local/bin "/out/usr/lib/$(gcc -dumpmachine)" \
 && cp target/release/scim-sidecar /out/usr/local/bin/ \
 && cp "$(gcc -print-file-name=libgcc_s.so.1)" "/out/usr/lib/$(gcc -dumpmachine)/"

# glibc, CA certificates and tzdata, no shell, no OpenSSL. The binary also
# needs libgcc_s (Rust's unwinder), copied from the build stage above.
FROM gcr.io/distroless/base-nossl-debian12:nonroot
COPY --from=build /out/ /
USER 65532:65532
ENV SCIM_SIDECAR_CONFIG=/etc/scim-sidecar/config/config.toml \
    SCIM_SIDECAR_LOG_FORMAT=json
# SCIM and pass-through; admin (/livez, /readyz, /metrics).
EXPOSE 8080 9090
ENTRYPOINT ["/usr/local/bin/scim-sidecar"]
CMD ["run"]
