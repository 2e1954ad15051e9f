"""Load the demo district: 雷锋派出所 and its neighbour; a second run changes nothing."""

from __future__ import annotations

import time
import unicodedata
from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from fengqiao.accounts.roles import Role
from fengqiao.demo.builder import STATIONS, LoadResult, load_demo, station_summary


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(width - _width(text), 0)


class Command(BaseCommand):
    help = "Load the demo district (雷锋派出所 and a neighbour); a second run changes nothing."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        result = load_demo()
        for plan in STATIONS:
            n = station_summary(plan)
            self.stdout.write(
                _(
                    "%(name)s（%(code)s）：%(communities)d 个社区/村，%(grids)d 个网格，"
                    "%(police_grids)d 个警格，%(places)d 个场所"
                )
                % {"name": plan.name, "code": plan.code, **n}
            )
        if result.changed:
            created = result.created
            self.stdout.write(
                _("新建：%(areas)d 个区域，%(accounts)d 个账号，%(pg)d 个警格，%(places)d 个场所。")
                % {
                    "areas": created["areas"],
                    "accounts": created["accounts"],
                    "pg": created["police_grids"],
                    "places": created["places"],
                }
            )
            if created["disputes"]:
                self.stdout.write(
                    _(
                        "矛盾纠纷：%(disputes)d 件（近两年），调解员 %(mediators)d 名，"
                        "分流规则 %(rules)d 条，调解协议 %(agreements)d 份，回访 %(followups)d 次。"
                    )
                    % {
                        "disputes": created["disputes"],
                        "mediators": created["mediators"],
                        "rules": created["routing_rules"],
                        "agreements": created["agreements"],
                        "followups": created["followups"],
                    }
                )
            if created.get("incidents"):
                self.stdout.write(
                    _(
                        "警情：%(incidents)d 起（近两年），其中 %(open)d 起尚未处结，"
                        "%(linked)d 起转为矛盾纠纷；今早的晨会研判由后台任务在所设时间生成。"
                    )
                    % {
                        "incidents": created["incidents"],
                        "open": created.get("incidents_open", 0),
                        "linked": created.get("incidents_linked", 0),
                    }
                )
        else:
            self.stdout.write(_("演示数据已全部存在，本次未做任何改动。"))
        if result.skipped_places:
            self.stderr.write(
                _("%(n)d 个场所不在任何网格内（网格边界已被修改），已跳过。")
                % {"n": len(result.skipped_places)}
            )
        self._logins(result)
        self.stdout.write(_("用时 %(s).1f 秒。") % {"s": time.monotonic() - started})

    def _logins(self, result: LoadResult) -> None:
        """Print each sample login's password once; on a re-run, say how to reset one."""
        if result.logins:
            self.stdout.write("")
            self.stdout.write(self.style.WARNING(_("演示账号（密码只显示这一次，请记下）：")))
            header = [_("用户名"), _("角色"), _("岗位"), _("密码")]
            rows = [
                [login.username, str(Role(login.role).label), login.post, login.password]
                for login in result.logins
            ]
            widths = [max(_width(r[i]) for r in [header, *rows]) + 2 for i in range(3)]
            for row in [header, *rows]:
                cells = [_pad(c, w) for c, w in zip(row[:3], widths, strict=True)]
                self.stdout.write("  " + "".join(cells) + row[3])
            others = result.created["accounts"] - len(result.logins)
            if others > 0:
                self.stdout.write(
                    _("其余 %(n)d 个账号尚未设置密码，可用 fengqiao changepassword 用户名 设置。")
                    % {"n": others}
                )
        if result.existing_logins:
            example = result.existing_logins[0].username
            self.stdout.write(
                _(
                    "演示账号已存在，密码不再显示。重设密码：fengqiao changepassword 用户名"
                    "（例如 fengqiao changepassword %(user)s）。"
                )
                % {"user": example}
            )
