# beianbot's image: a static binary on distroless, run as a non-root user,
# state in the /data volume.
#
#   docker build --build-arg VERSION=v1.0.0 --build-arg REVISION=$(git rev-parse HEAD) -t beianbot .
#   docker run -d --name beianbot -v beianbot-data:/data \
#     -e BEIANBOT_TELEGRAM_TOKEN_FILE=/run/secrets/telegram_token ... beianbot
#
# docs/operators.md ("Deploy") has the details.

ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
# Modules first: this layer is reused while go.mod and go.sum stay the same.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# .git is not in the build context (.dockerignore): the version and
# revision come in as build arguments and are stamped with -ldflags.
ARG VERSION=""
ARG REVISION=""
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X main.version=${VERSION} -X main.revision=${REVISION}" \
      -o /out/beianbot ./cmd/beianbot \
 && mkdir -p /out/data

# distroless/static: CA certificates and /etc/passwd, no shell, no package manager.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/beianbot /usr/local/bin/beianbot
# The volume starts out owned by the image's user (65532, "nonroot").
COPY --from=build --chown=65532:65532 /out/data /data
ENV BEIANBOT_DATA_DIR=/data \
    BEIANBOT_TELEGRAM_WEBHOOK_LISTEN=:8443 \
    BEIANBOT_TELEGRAM_METRICS_LISTEN=:9090
USER 65532:65532
VOLUME ["/data"]
# 8443: the webhook (webhook mode); 9090: /metrics and /healthz.
EXPOSE 8443 9090
# /healthz answers 200 while the bot takes updates, 503 while it stops.
# (No --start-period: the bot is up within seconds.)
HEALTHCHECK --interval=30s --timeout=5s --retries=3 CMD ["/usr/local/bin/beianbot", "health"]
ENTRYPOINT ["/usr/local/bin/beianbot"]
CMD ["serve"]
