# riskmap in a container: `docker build -t riskmap .` then
# `docker run -p 8080:8080 -v riskmap-data:/data riskmap`.
# The builder compiles the binary (with the web map bundled by build.rs,
# which needs Node.js); the runtime image holds only the binary.

FROM rust:1.95-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends nodejs npm \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN CARGO_TARGET_DIR=/src/target cargo build --release --locked --bin riskmap \
    && install -m 0755 target/release/riskmap /usr/local/bin/riskmap

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin riskmap \
    && mkdir -p /data /etc/riskmap \
    && chown riskmap:riskmap /data
COPY --from=build /usr/local/bin/riskmap /usr/local/bin/riskmap
COPY riskmap.example.toml /etc/riskmap/riskmap.example.toml
USER riskmap
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/health >/dev/null || exit 1
ENTRYPOINT ["riskmap"]
CMD ["serve", "--listen", "0.0.0.0:8080", "--data-dir", "/data"]
