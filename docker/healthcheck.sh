#!/usr/bin/env bash
# Container health check that needs no curl: GET /health/readiness over bash's
# /dev/tcp. Exits 0 on HTTP 200 and 1 otherwise (refused, silent for 5 s, or
# 503 while the gateway drains), as Docker expects.
# TOLLGATE_HEALTH_HOST / TOLLGATE_HEALTH_PORT say where the gateway listens
# inside the container (default 127.0.0.1:4000, which also reaches a 0.0.0.0
# listener). Plain HTTP only: with server.tls set, use another check.
host="${TOLLGATE_HEALTH_HOST:-127.0.0.1}"
port="${TOLLGATE_HEALTH_PORT:-4000}"
exec 3<>"/dev/tcp/${host}/${port}" || exit 1
printf 'GET /health/readiness HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$host" >&3 || exit 1
IFS= read -r -t 5 status <&3 || exit 1
[[ "$status" == "HTTP/1."[01]" 200 "* ]] || exit 1
exit 0
