"""Schedule timings in words and presets to crontabs: jobs.timing, the one home of these rules."""

import pytest

from jobs import timing


@pytest.mark.parametrize(
    ("crontab", "interval", "zone", "said"),
    [
        ("0 2 * * 1", None, "UTC", "Every Monday at 02:00 UTC"),
        ("30 23 * * 0", None, "Europe/Berlin", "Every Sunday at 23:30 Europe/Berlin"),
        ("5 4 * * 7", None, "UTC", "Every Sunday at 04:05 UTC"),
        ("0 2 * * *", None, "UTC", "Every day at 02:00 UTC"),
        ("15 6 1 * *", None, "UTC", "On day 1 of every month at 06:15 UTC"),
        ("0 9 * * 1-5", None, "UTC", "Every weekday (Monday to Friday) at 09:00 UTC"),
        ("0 9 * * 1,3,5", None, "UTC", "Every Monday, Wednesday and Friday at 09:00 UTC"),
        ("*/15 * * * *", None, "UTC", "Every 15 minutes"),
        ("* * * * *", None, "UTC", "Every minute"),
        ("7 * * * *", None, "UTC", "Every hour at minute 07"),
        ("@weekly", None, "UTC", "Every Sunday at 00:00 UTC"),
        ("@daily", None, "Asia/Shanghai", "Every day at 00:00 Asia/Shanghai"),
        ("@monthly", None, "UTC", "On day 1 of every month at 00:00 UTC"),
        ("@hourly", None, "UTC", "Every hour at minute 00"),
        ("5,35 1-3 * * *", None, "UTC", "Crontab 5,35 1-3 * * * (UTC)"),
        ("0 2 * 6 *", None, "UTC", "Crontab 0 2 * 6 * (UTC)"),
        ("", 30, "", "Every 30 minutes"),
        ("", 1, "", "Every minute"),
        ("", 60, "", "Every hour"),
        ("", 180, "", "Every 3 hours"),
        ("", 1440, "", "Every day"),
        ("", 90, "", "Every 90 minutes"),
    ],
)
def test_a_timing_reads_as_a_sentence(crontab, interval, zone, said):
    assert timing.describe(crontab, interval, zone) == said


@pytest.mark.parametrize(
    ("alias", "fields"),
    [("@hourly", "0 * * * *"), ("@daily", "0 0 * * *"), ("@weekly", "0 0 * * 0"), ("@monthly", "0 0 1 * *")],
)
def test_crontab_aliases_are_spelled_out(alias, fields):
    assert timing.expand(alias) == fields
    assert timing.expand(f"  {alias.upper()} ") == fields


def test_presets_make_crontabs_and_are_found_again():
    assert timing.preset(timing.DAILY, 2, 0) == "0 2 * * *"
    assert timing.preset(timing.WEEKLY, 2, 0, weekday="1") == "0 2 * * 1"
    assert timing.preset(timing.MONTHLY, 6, 15, day=28) == "15 6 28 * *"
    assert timing.preset_of("0 2 * * 1") == {"frequency": timing.WEEKLY, "weekday": "1", "hour": 2, "minute": 0}
    assert timing.preset_of("15 6 28 * *") == {"frequency": timing.MONTHLY, "day": 28, "hour": 6, "minute": 15}
    assert timing.preset_of("0 2 * * *") == {"frequency": timing.DAILY, "hour": 2, "minute": 0}
    assert timing.preset_of("*/5 * * * *") is None
    assert timing.preset_of("0 9 * * 1-5") is None
    with pytest.raises(ValueError):
        timing.preset(timing.CRONTAB, 2, 0)
