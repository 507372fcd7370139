# Build the herald binary, then ship it alone on a small base image.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=docker
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /herald ./cmd/herald

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /herald /herald
ENV HERALD_LISTEN=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["/herald"]
CMD ["all"]
