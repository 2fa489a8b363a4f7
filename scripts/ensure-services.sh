#!/usr/bin/env bash
# Brings up PostgreSQL and Redis (and, with --docker, the Docker engine in swarm mode) when nothing answers.
# With --browser, installs Debian's Chromium for the portal's browser tests (test/browser).
# With --test (npm test, CI), lets the tests' superuser `postgres` in from loopback without a password; without it
# (npm start) PostgreSQL's authentication is left as installed and Wharf gets its own password role, written to .env.
# Installs them from Debian's packages when run as root; otherwise says exactly what to install.
# WHARF_PG_PORT: PostgreSQL's port when not 5432.
source "$(dirname "$0")/lib.sh"

want_docker=0
want_browser=0
want_test=0
for a in "$@"; do
  [ "$a" = --docker ] && want_docker=1
  [ "$a" = --browser ] && want_browser=1
  [ "$a" = --test ] && want_test=1
done

PG_HOST=127.0.0.1; PG_PORT=${WHARF_PG_PORT:-5432}
pg_ready() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT"; }
if ! command -v pg_isready >/dev/null 2>&1 || ! pg_ready; then
  apt_install postgresql postgresql-client
  ver=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1)
  if [ -z "$ver" ]; then log "PostgreSQL is installed but has no cluster; run: pg_createcluster 15 main"; exit 1; fi
  log "starting PostgreSQL $ver"
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start >/dev/null 2>&1 || true
  wait_for 30 pg_ready || { log "PostgreSQL did not become ready on $PG_HOST:$PG_PORT"; exit 1; }
fi

pg_can() { psql -w "$1" -tAc 'SELECT 1' >/dev/null 2>&1; }
TEST_ADMIN_URL="postgres://postgres@$PG_HOST:$PG_PORT/postgres"
if [ "$want_test" = 1 ]; then
  # Tests only: they create and drop scratch databases as `postgres` from loopback, without a password. Only that
  # user, only over TCP from this machine; nothing is trusted outside test runs.
  if ! pg_can "$TEST_ADMIN_URL"; then
    ver=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1)
    hba=/etc/postgresql/$ver/main/pg_hba.conf
    if [ -z "$ver" ] || ! is_root; then log "tests need $TEST_ADMIN_URL (or WHARF_TEST_PG_URL) to connect"; exit 1; fi
    if ! grep -q '^host all postgres 127.0.0.1/32 trust' "$hba"; then
      log "test run: trusting the postgres user on loopback in $hba"
      sed -i '1i host all postgres 127.0.0.1/32 trust\nhost all postgres ::1/128 trust' "$hba"
    fi
    pg_ctlcluster --skip-systemctl-redirect "$ver" main reload >/dev/null 2>&1 || true
    wait_for 10 pg_can "$TEST_ADMIN_URL" || { log "cannot connect as $TEST_ADMIN_URL"; exit 1; }
  fi
elif [ -z "${DATABASE_URL:-}" ] && ! grep -qs '^DATABASE_URL=' "$ROOT/.env" && ! pg_can "$TEST_ADMIN_URL"; then
  # A fresh install asks for passwords on TCP: Wharf gets a role of its own with a random password (set up as the
  # postgres superuser over the local socket, peer authentication), remembered in .env for scripts/start.sh.
  if ! is_root; then log "create a PostgreSQL role for Wharf and set DATABASE_URL (see .env.example)"; exit 1; fi
  pass=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  log "creating the PostgreSQL role wharf (password in .env)"
  printf '%s\n' \
    "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'wharf') THEN CREATE ROLE wharf LOGIN CREATEDB; END IF; END \$\$;" \
    "ALTER ROLE wharf PASSWORD :'pw';" | (cd / && runuser -u postgres -- psql -q -p "$PG_PORT" -v ON_ERROR_STOP=1 -v pw="$pass" -d postgres) >/dev/null
  (umask 077; printf 'DATABASE_URL=postgres://wharf:%s@%s:%s/wharf\n' "$pass" "$PG_HOST" "$PG_PORT" >> "$ROOT/.env")
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
  if [ "$want_test" = 1 ]; then
    # The Docker tests' tools (test image, local registry, private dockerd in a network namespace), installed here so
    # no test hook waits for apt-get.
    apt_install busybox-static docker-registry apache2-utils iproute2 || true
  fi
fi

if [ "$want_test" = 1 ]; then
  # The DNS-01 tests start their own BIND (`named -g`, test/support/named.ts) and pebble-challtestsrv
  # (test/support/acme.ts) on free ports. bind9's system service is not wanted: a fresh install has it stopped.
  had_bind=0; dpkg -s bind9 >/dev/null 2>&1 && had_bind=1
  apt_install bind9 pebble || true
  if [ "$had_bind" = 0 ] && dpkg -s bind9 >/dev/null 2>&1 && command -v systemctl >/dev/null 2>&1; then
    systemctl disable --now named >/dev/null 2>&1 || true
  fi
  # Git sources (test/support/git-server.ts): repositories served by `git http-backend` and a private sshd (`sshd -f`,
  # never the system service, which a fresh install leaves stopped here as there is no systemd).
  apt_install git openssh-server || true
fi

if [ "$want_browser" = 1 ] && [ ! -x /usr/bin/chromium ]; then
  # Debian's Chromium, driven by playwright-core (never `npx playwright install`: it downloads a browser).
  apt_install chromium
fi
