# syntax=docker/dockerfile:1
# Tollgate's container image: one static binary on distroless/static (no shell, no libc, no package
# manager), running as the image's nonroot user.
#
#   docker build -t ghcr.io/tollgate-dev/tollgate:0.1.0 .
#
# Why musl: distroless/static has no C library at all, so the binary must not need one at run time.
# Rust's x86_64-unknown-linux-musl target links musl statically by default (a static-pie with no
# program interpreter and no NEEDED entries). The alternative, glibc with `-C target-feature=+crt-static`,
# also links, but glibc still loads NSS modules (name resolution) with dlopen at run time and warns
# at link time that a static getaddrinfo needs the shared libraries of the same glibc version, which
# this image does not have. Tollgate has no OpenSSL (rustls with ring); the C it does have (ring's
# assembly and SQLite, bundled by libsqlite3-sys) builds with musl-gcc from musl-tools.

FROM rust:1.95-bookworm AS builder
ARG TARGET=x86_64-unknown-linux-musl
RUN apt-get update \
 && apt-get install -y --no-install-recommends musl-tools \
 && rm -rf /var/lib/apt/lists/* \
 && rustup target add "$TARGET"
WORKDIR /src
COPY . .
# The registry and target caches survive between builds (BuildKit cache mounts), so a rebuild after a
# source change recompiles only the workspace crates. The binary is copied out of the cached target.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p tollgate --target "$TARGET" \
 && install -D -m 0755 "target/$TARGET/release/tollgate" /out/tollgate
# Refuse an image whose binary would need a loader or a shared library distroless/static lacks.
RUN if readelf -lW /out/tollgate | grep -q 'program interpreter' \
      || readelf -dW /out/tollgate | grep -q '(NEEDED)'; then \
      echo "tollgate is not statically linked" >&2; readelf -dW /out/tollgate >&2; exit 1; \
    fi \
 && /out/tollgate --version

FROM gcr.io/distroless/static-debian12:nonroot
LABEL org.opencontainers.image.title="tollgate" \
      org.opencontainers.image.description="Audits the Kubernetes Ingress layer: scan, change history, access logs, alerts" \
      org.opencontainers.image.source="https://github.com/tollgate-dev/tollgate" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=builder /out/tollgate /tollgate
# The distroless nonroot user (65532:65532); the Helm chart runs the pod as the same IDs.
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/tollgate"]
CMD ["serve", "--config", "/etc/tollgate/tollgate.yaml"]
