#!/usr/bin/env bash
# Brings up PostgreSQL and Redis (and, with --docker, the Docker engine in swarm mode) when nothing answers.
# With --browser, installs Debian's Chromium for the portal's browser tests (test/browser).
# Installs them from Debian's packages when run as root; otherwise says exactly what to install.
source "$(dirname "$0")/lib.sh"

want_docker=0
want_browser=0
for a in "$@"; do
  [ "$a" = --docker ] && want_docker=1
  [ "$a" = --browser ] && want_browser=1
done

PG_HOST=127.0.0.1; PG_PORT=5432
pg_ready() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT"; }
if ! command -v pg_isready >/dev/null 2>&1 || ! pg_ready; then
  apt_install postgresql postgresql-client
  ver=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1)
  if [ -z "$ver" ]; then log "PostgreSQL is installed but has no cluster; run: pg_createcluster 15 main"; exit 1; fi
  conf=/etc/postgresql/$ver/main
  # Local development trusts loopback connections (the default install asks for a password).
  if ! grep -q '^host all all 127.0.0.1/32 trust' "$conf/pg_hba.conf"; then
    sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\nlocal all all trust' "$conf/pg_hba.conf"
  fi
  log "starting PostgreSQL $ver"
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start >/dev/null 2>&1 || true
  wait_for 30 pg_ready || { log "PostgreSQL did not become ready on $PG_HOST:$PG_PORT"; exit 1; }
fi

redis_ready() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ]; }
if ! command -v redis-cli >/dev/null 2>&1 || ! redis_ready; then
  apt_install redis-server
  log "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/wharf.log
  wait_for 15 redis_ready || { log "Redis did not become ready on 127.0.0.1:6379"; exit 1; }
fi

if [ "$want_docker" = 1 ]; then
  DOCKER=/usr/bin/docker
  docker_ready() { curl -sf --unix-socket /var/run/docker.sock http://localhost/_ping >/dev/null; }
  if ! docker_ready; then
    apt_install docker.io curl
    log "starting dockerd"
    setsid dockerd >/var/log/dockerd.log 2>&1 < /dev/null &
    wait_for 60 docker_ready || { log "dockerd did not answer on /var/run/docker.sock (see /var/log/dockerd.log)"; exit 1; }
  fi
  if [ "$($DOCKER info --format '{{.Swarm.LocalNodeState}}')" != active ]; then
    log "initialising swarm mode"
    $DOCKER swarm init --advertise-addr 127.0.0.1 >/dev/null
  fi
fi

if [ "$want_browser" = 1 ] && [ ! -x /usr/bin/chromium ]; then
  # Debian's Chromium, driven by playwright-core (never `npx playwright install`: it downloads a browser).
  apt_install chromium
fi
