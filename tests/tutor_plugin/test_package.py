"""The plugin's wheel holds every patch and template: the tests run the plugin from the
source tree (editable), an operator's `pip install` from the wheel."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

from .tutor_env import REPO, TUTOR_BIN

PLUGIN = REPO / "tutor-plugin"


def test_the_wheel_ships_every_file_of_the_package(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(TUTOR_BIN / "pip"), "wheel", "-q", "--no-deps", str(PLUGIN), "-w", str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    (wheel,) = tmp_path.glob("tutor_contrib_facilitation-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = {name for name in archive.namelist() if ".dist-info/" not in name}
    package = PLUGIN / "tutorfacilitation"
    source = {
        str(path.relative_to(PLUGIN)) for path in package.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert shipped == source
    with zipfile.ZipFile(wheel) as archive:
        entry_points = archive.read(next(n for n in archive.namelist()
                                         if n.endswith("entry_points.txt"))).decode()
    assert "[tutor.plugin.v1]\nfacilitation = tutorfacilitation.plugin" in entry_points
