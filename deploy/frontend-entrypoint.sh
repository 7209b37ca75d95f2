#!/bin/sh
# frontend-entrypoint.sh - renders the nginx configuration from the
# environment (the gateway's address: HTTP and WebSocket, listen port) into the writable tmpfs,
# then runs nginx in the foreground as the unprivileged user.
set -eu
: "${GATEWAY_ADDR:=gateway:8000}" "${LISTEN_PORT:=8080}"
: "${DASHBOARD_DIR:=/srv/dashboard}" "${NGINX_RUN:=/tmp/nginx}"
export GATEWAY_ADDR LISTEN_PORT DASHBOARD_DIR NGINX_RUN
mkdir -p "$NGINX_RUN"
envsubst '${GATEWAY_ADDR} ${LISTEN_PORT} ${DASHBOARD_DIR} ${NGINX_RUN}' \
  < "${NGINX_TEMPLATE:-/etc/pycoustics/nginx.conf.template}" > "$NGINX_RUN/nginx.conf"
exec nginx -e stderr -c "$NGINX_RUN/nginx.conf" -g 'daemon off;'
