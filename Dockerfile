# syntax=docker/dockerfile:1

# The complaint desk's one image: api, worker and complaintctl.
#   docker build -t complaintdesk .
# docker-compose.yml picks the binary with the service's command.

ARG GO_VERSION=1.26
ARG ALPINE_VERSION=3.23

FROM golang:${GO_VERSION} AS build
WORKDIR /src
# Modules first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# timetzdata embeds the time zone database: REFERENCE_TIME_ZONE must load
# whatever the runtime image carries.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -tags timetzdata -ldflags="-s -w" \
      -o /out/ ./cmd/api ./cmd/worker ./cmd/complaintctl

# Alpine rather than distroless: the compose healthchecks use busybox wget.
FROM alpine:${ALPINE_VERSION}
# /var/lib/complaintdesk is where compose's bootstrap job keeps the
# credentials it made; a fresh named volume mounted there takes its owner.
RUN addgroup -S -g 10001 complaintdesk && \
    adduser -S -D -H -u 10001 -G complaintdesk complaintdesk && \
    mkdir -p /var/lib/complaintdesk && chown 10001:10001 /var/lib/complaintdesk
COPY --from=build /out/api /out/worker /out/complaintctl /usr/local/bin/
USER 10001:10001
# 8080: the API (API_ADDR); 9090: the worker's /healthz (WORKER_HTTP_ADDR).
EXPOSE 8080 9090
CMD ["api"]
