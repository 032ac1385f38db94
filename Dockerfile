# syntax=docker/dockerfile:1
# unilogin container image: a static binary on distroless (CA certificates
# and tzdata, no shell), running as a non-root user. docs/deployment.md#packaging
#
#   docker build --build-arg VERSION=$(git describe --tags --always) -t unilogin .
#   docker run -p 8080:8080 -v unilogin-data:/data -e UNILOGIN_ISSUER=https://login.example.com unilogin

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# modernc.org/sqlite is pure Go: no cgo, so the binary is fully static. The
# tags are the Makefile's TAGS: nomsgpack leaves out gin's unused MessagePack codec.
RUN CGO_ENABLED=0 go build -tags nomsgpack -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/unilogin ./cmd/unilogin \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/unilogin /usr/local/bin/unilogin
# The data directory belongs to the image's non-root user (65532), so a new
# named volume mounted there inherits that owner.
COPY --from=build --chown=65532:65532 /out/data /data
ENV UNILOGIN_DATA_DIR=/data \
    UNILOGIN_HTTP_ADDR=:8080
USER 65532:65532
VOLUME ["/data"]
EXPOSE 8080
# No curl in the image: the binary probes its own /healthz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["/usr/local/bin/unilogin", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/unilogin"]
CMD ["serve"]
