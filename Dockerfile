# syntax=docker/dockerfile:1
# Build stage: a static binary.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/relaydesk ./cmd/relaydesk

# Runtime stage: Debian slim with ffmpeg (relaydesk converts agents' browser
# voice recordings to OGG/Opus and HEIC photos to JPEG with it; without it
# those files are refused with a note), CA roots for calls to Graph and the
# helpdesks, and a non-root user.
FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ffmpeg ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 65532 --no-create-home --shell /usr/sbin/nologin nonroot
COPY --from=build /out/relaydesk /usr/local/bin/relaydesk
USER nonroot:nonroot
ENV RELAYDESK_LISTEN=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/relaydesk"]
CMD ["serve"]
