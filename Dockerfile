# syntax=docker/dockerfile:1
# Build stage: a static binary.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/relaydesk ./cmd/relaydesk

# Runtime stage: no shell, no package manager, a non-root user, CA roots for
# calls to Graph and the helpdesks.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/relaydesk /usr/local/bin/relaydesk
USER nonroot:nonroot
ENV RELAYDESK_LISTEN=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/relaydesk"]
CMD ["serve"]
