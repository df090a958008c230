#!/usr/bin/env bash
# Start what the tests need (MariaDB, Redis) when it is not already running.
set -euo pipefail

wait_for() {  # name, check command...
  local name=$1; shift
  for _ in $(seq 1 60); do
    if "$@" >/dev/null 2>&1; then echo "$name: up"; return 0; fi
    sleep 0.5
  done
  echo "$name: did not come up" >&2
  return 1
}

mariadb_up() {
  if command -v mariadb-admin >/dev/null 2>&1; then
    mariadb-admin -h127.0.0.1 -uroot ping
  else
    mysqladmin -h127.0.0.1 -uroot ping
  fi
}

redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping | grep -q PONG; }

if ! mariadb_up >/dev/null 2>&1; then
  echo "MariaDB: starting"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  wait_for MariaDB mariadb_up
else
  echo "MariaDB: up"
fi

if ! redis_up >/dev/null 2>&1; then
  echo "Redis: starting"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
    --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_for Redis redis_up
else
  echo "Redis: up"
fi

postgres_up() { pg_isready -h 127.0.0.1 -p 5432 -q; }
if ! postgres_up >/dev/null 2>&1; then
  echo "PostgreSQL: starting"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
  wait_for PostgreSQL postgres_up
else
  echo "PostgreSQL: up"
fi

# Browser tests drive Debian's Chromium through Playwright (no browser download).
if [ ! -x /usr/bin/chromium ]; then
  echo "Chromium: installing Debian's package"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi
echo "Chromium: $(/usr/bin/chromium --version 2>/dev/null || echo missing)"

# The Perfex module's tests run Debian's PHP: curl for the module's hooks, SQLite for
# the stand-in of Perfex's payment model writing into a test's Perfex database.
if ! command -v php >/dev/null 2>&1 || ! php -m | grep -qi '^curl$' \
    || ! php -m | grep -qi '^pdo_sqlite$'; then
  echo "PHP: installing Debian's php-cli, php-curl and php-sqlite3"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq php-cli php-curl php-sqlite3 >/dev/null
fi
echo "PHP: $(php -r 'echo PHP_VERSION;' 2>/dev/null || echo missing)"

# The deployment browser test runs Debian's nginx as the test user (its own config
# and prefix in a temporary directory, ports above 1024): only the binary is needed.
if [ ! -x /usr/sbin/nginx ]; then
  echo "nginx: installing Debian's package"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq nginx >/dev/null
fi
echo "nginx: $(/usr/sbin/nginx -v 2>&1 || echo missing)"
