"""The `fengqiao demo` command line: asking for help or mistyping an option loads nothing."""

from __future__ import annotations

import pytest

from fengqiao.__main__ import main
from fengqiao.areas.models import Area

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("argv", "code"), [(["--help"], 0), (["--port", "x"], 2), (["--nope"], 2)])
def test_help_and_bad_options_stop_before_the_demo_loads(argv, code, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["demo", *argv])
    assert stop.value.code == code
    out = capsys.readouterr()
    assert "usage: fengqiao demo" in out.out + out.err
    assert not Area.objects.exists()
