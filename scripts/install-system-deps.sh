#!/usr/bin/env bash
# Installs the Debian packages the project runs for real: Redis, Prometheus (promtool),
# Chromium and its driver for browser tests. Skips what is already there.
set -euo pipefail
need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v promtool >/dev/null || need+=(prometheus)
command -v chromium >/dev/null || need+=(chromium)
command -v chromedriver >/dev/null || need+=(chromium-driver)
command -v java >/dev/null || need+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || need+=(maven)
# MariaDB (the LMS database of the plugin tests) and its client library (mysqlclient).
command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || need+=(mariadb-server)
[ -e /usr/include/mariadb/mysql.h ] || need+=(libmariadb-dev)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
echo "[install-system-deps] installing: ${need[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
