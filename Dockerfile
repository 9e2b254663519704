# syntax=docker/dockerfile:1.7
# scim-sidecar image: a static-size glibc binary on distroless, non-root.
#   docker build -t scim-sidecar .
#   docker run --rm -v $PWD/config:/etc/scim-sidecar:ro -p 8080:8080 scim-sidecar
# Mount your config directory at /etc/scim-sidecar, holding config.toml with
# listen = "0.0.0.0:8080" and admin_listen = "0.0.0.0:9090". Mount it as a
# directory (not a subPath) so that ConfigMap updates reach the container.

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY benches ./benches
COPY examples ./examples
COPY tests ./tests
COPY config ./config
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin scim-sidecar \
 && cp target/release/scim-sidecar /usr/local/bin/scim-sidecar

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /usr/local/bin/scim-sidecar /usr/local/bin/scim-sidecar
USER nonroot:nonroot
EXPOSE 8080 9090
ENV SCIM_SIDECAR_CONFIG=/etc/scim-sidecar/config.toml
ENTRYPOINT ["/usr/local/bin/scim-sidecar"]
CMD ["run"]
