#!/bin/sh
# frontend-entrypoint.sh - renders the nginx configuration from the
# environment (gateway addresses, listen port) into the writable tmpfs,
# then runs nginx in the foreground as the unprivileged user.
set -eu
: "${GATEWAY_HTTP:=gateway:8000}" "${GATEWAY_WS:=gateway:8001}" "${LISTEN_PORT:=8080}"
: "${DASHBOARD_DIR:=/srv/dashboard}" "${NGINX_RUN:=/tmp/nginx}"
export GATEWAY_HTTP GATEWAY_WS LISTEN_PORT DASHBOARD_DIR NGINX_RUN
mkdir -p "$NGINX_RUN"
envsubst '${GATEWAY_HTTP} ${GATEWAY_WS} ${LISTEN_PORT} ${DASHBOARD_DIR} ${NGINX_RUN}' \
  < "${NGINX_TEMPLATE:-/etc/pycoustics/nginx.conf.template}" > "$NGINX_RUN/nginx.conf"
exec nginx -e stderr -c "$NGINX_RUN/nginx.conf" -g 'daemon off;'
