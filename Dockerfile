# syntax=docker/dockerfile:1
# relkey's image: one static binary (the SQLite driver is pure Go, so CGO is
# off) on a distroless base, run as a non-root user, keeping the embedded
# store in the /data volume.
#   docker build --build-arg VERSION="$(git describe --tags --always)" -t relkey .
#   docker run -p 8080:8080 -v relkey-data:/data relkey

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ENV CGO_ENABLED=0
# The Makefile's build, so the image runs the binary `make build` makes.
RUN make build VERSION="${VERSION}"
RUN mkdir /data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /src/bin/relkey /usr/local/bin/relkey
COPY --from=build --chown=65532:65532 /data /data
ENV RELKEY_LISTEN=0.0.0.0:8080 \
    RELKEY_DATA_DIR=/data
USER 65532:65532
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/usr/local/bin/relkey", "health"]
ENTRYPOINT ["/usr/local/bin/relkey"]
CMD ["serve"]
