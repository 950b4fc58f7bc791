"""The example systemd units of docs/deployment.md run this checkout's programs with settings they define.

The multi-host test (test_multi_host.py) runs them, where PostgreSQL answers; this checks them everywhere."""

from pathlib import Path

import pytest

from console.testing.multihost import ROOT, UNITS_DIR, read_unit, unit_command

UNITS = sorted(path.name for path in UNITS_DIR.glob("*.service"))


def test_there_is_a_unit_for_each_process_of_the_guide():
    assert UNITS == ["console-beat.service", "console-web.service", "console-worker.service", "localcloud.service"]


@pytest.mark.parametrize("unit_name", UNITS)
def test_a_unit_runs_a_program_of_the_checkout_with_every_variable_given_a_default(unit_name):
    unit = read_unit(UNITS_DIR / unit_name)

    for line in [*unit.exec_start_pre, unit.exec_start]:
        command = unit_command(line, unit.environment, "host-1")
        assert Path(command[0]).is_file() and command[0].startswith(str(ROOT)), command
        assert all(word and "$" not in word and "%" not in word for word in command), command


@pytest.mark.parametrize("unit_name", UNITS)
def test_a_unit_reads_the_environment_file_of_the_guide_and_keeps_its_files_private(unit_name):
    unit = read_unit(UNITS_DIR / unit_name)
    text = (UNITS_DIR / unit_name).read_text()

    expected = "/etc/console/localcloud.env" if unit_name == "localcloud.service" else "/etc/console/console.env"
    assert unit.environment_files == [expected]
    assert "UMask=0077" in text and "User=console" in text


def test_workers_are_named_after_their_host():
    unit = read_unit(UNITS_DIR / "console-worker.service")

    command = unit_command(unit.exec_start, unit.environment, "worker-host-7")
    assert command[command.index("--hostname") + 1] == "worker@worker-host-7"
