"""MariaDB for scripts/devservices.py: the LMS database of the plugin app's tests.

Debian's ``mariadb-server`` (``mariadbd``), a data folder of its own in the run folder made
once by ``mariadb-install-db``, bound to 127.0.0.1 on ``FACILITATION_DEV_MARIADB_PORT``, and a
user ``facilitation`` / ``facilitation`` with every privilege (created by ``--init-file`` at
each start). Open edX runs MySQL 8; MariaDB 10.6+ has the same ``SELECT ... FOR UPDATE SKIP
LOCKED`` the outbox relies on. Tests find it through ``FACILITATION_TEST_MARIADB``
(``host:port``); when that is set, nothing is started and the given server is used.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

PORT = int(os.environ.get("FACILITATION_DEV_MARIADB_PORT", "33306"))
USER = PASSWORD = "facilitation"
ENV_VAR = "FACILITATION_TEST_MARIADB"
_INIT_SQL = (
    f"CREATE USER IF NOT EXISTS '{USER}'@'%' IDENTIFIED BY '{PASSWORD}';\n"
    f"GRANT ALL PRIVILEGES ON *.* TO '{USER}'@'%' WITH GRANT OPTION;\n"
)


def server() -> str:
    for candidate in (shutil.which("mariadbd"), "/usr/sbin/mariadbd"):
        if candidate and Path(candidate).exists():
            return candidate
    raise SystemExit("devservices: mariadbd missing; run scripts/install-system-deps.sh")


def probe(timeout: float = 2.0) -> bool:
    """Ready = the server sends its handshake (protocol version 10) on the TCP port."""
    try:
        with socket.create_connection(("127.0.0.1", PORT), timeout=timeout) as sock:
            sock.settimeout(timeout)
            greeting = sock.recv(64)
    except OSError:
        return False
    return len(greeting) > 4 and greeting[4] == 10


def start(run_dir: Path, log_dir: Path, pid_file: Path,
          wait_ready: Callable[[str, Any, Callable[[], bool]], None]) -> int:
    """Start mariadbd (formatting its data folder the first time); returns its pid."""
    data_dir = run_dir / "mariadb-data"
    log_dir.mkdir(parents=True, exist_ok=True)
    if not (data_dir / "mysql").exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        with open(log_dir / "mariadb-install.log", "ab") as install_log:
            subprocess.run(
                ["mariadb-install-db", f"--datadir={data_dir}", "--skip-test-db",
                 "--auth-root-authentication-method=normal", "--user=" + _os_user()],
                check=True, stdout=subprocess.DEVNULL, stderr=install_log,
            )
    init = run_dir / "mariadb-init.sql"
    init.write_text(_INIT_SQL)
    proc = subprocess.Popen(
        [server(), "--no-defaults", f"--datadir={data_dir}", f"--port={PORT}",
         "--bind-address=127.0.0.1", f"--socket={run_dir / 'mariadb.sock'}",
         f"--pid-file={run_dir / 'mariadb.server.pid'}", f"--init-file={init}",
         f"--log-error={log_dir / 'mariadb.log'}", "--user=" + _os_user(),
         "--skip-name-resolve", "--character-set-server=utf8mb4",
         "--collation-server=utf8mb4_unicode_ci", "--innodb-buffer-pool-size=128M",
         "--max-connections=500"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True, cwd=run_dir,
    )
    pid_file.write_text(str(proc.pid))
    wait_ready("mariadb", proc, probe)
    return proc.pid


def _os_user() -> str:
    import pwd

    return pwd.getpwuid(os.getuid()).pw_name
