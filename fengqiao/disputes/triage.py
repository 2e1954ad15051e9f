"""Triage (风险研判) as written rules: warning colour with its reasons, grade, threat words.

Pure code: no database, no clock. The rules follow TAXONOMIES.md.

Colour: every rule that applies gives a reason; the colour is that of the most serious one.

- red: violence or threats reported at intake; threat or violence words found in the narrative
  and not dismissed by a person (pending words count, so that a possible threat is seen at once
  rather than after someone reads the case); a death; 5 or more people involved; an amount of
  100,000 RMB or more; a repeat dispute between the same parties within 90 days (calendar
  days between the dates of occurrence, local time; 90 is within, 91 is not).
- orange: an amount from 10,000 up to (not including) 100,000 RMB; two or more mediation
  channels or departments involved; special groups involved (the elderly, minors, people with
  disabilities, pregnant women).
- yellow: marked difficult (疑难复杂).
- blue: none of the above (ordinary).

"People involved" is the case's 涉及人数, which intake never lets fall below the number of
persons registered as parties, so "5 or more parties" is read from it.

Grade, for routing (清单式分流):

- major (重大矛盾) when the colour is red or the scale is 重大群体;
- trivia (日常琐事) when the dispute is a neighbour matter (class 02), between individuals
  (scale 个体), with no amount involved, and the colour is blue: the grid or community mediator
  settles it on the spot;
- civil (民间纠纷) otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext

from fengqiao.core.text import to_simplified
from fengqiao.disputes.choices import SEVERITY, Colour, Grade, Scale, ThreatState

RED_AMOUNT = Decimal("100000")
ORANGE_AMOUNT = Decimal("10000")
RED_PEOPLE = 5
ORANGE_CHANNELS = 2
REPEAT_WINDOW_DAYS = 90
TRIVIA_CLASSES = frozenset({"02"})

# Words of threat or violence, in simplified characters (narratives are normalised first).
THREAT_WORDS: tuple[str, ...] = (
    "杀",
    "砍",
    "捅",
    "同归于尽",
    "弄死",
    "整死",
    "打死",
    "砍死",
    "烧死",
    "报复",
    "放火",
    "纵火",
    "炸",
    "跳楼",
    "跳河",
    "喝农药",
    "喝药",
    "自杀",
    "轻生",
    "威胁",
    "恐吓",
    "要你命",
    "要你的命",
    "灭门",
    "血债",
    "持刀",
    "拿刀",
    "动刀",
    "菜刀",
    "泼汽油",
    "硫酸",
    "殴打",
    "打人",
    "打架",
    "斗殴",
    "家暴",
    "家庭暴力",
)
# Everyday phrases that contain a threat word but threaten nobody; removed before matching.
HARMLESS_PHRASES: tuple[str, ...] = (
    "砍价",
    "杀价",
    "杀毒",
    "杀虫",
    "秒杀",
    "炸鸡",
    "油炸",
    "炸酱",
    "炸串",
    "炸薯条",
    "炸货",
    "动手术",
)
_THREAT_RE = re.compile("|".join(re.escape(w) for w in sorted(THREAT_WORDS, key=len, reverse=True)))
_HARMLESS_RE = re.compile("|".join(re.escape(w) for w in HARMLESS_PHRASES))


def threat_words(text: str) -> list[str]:
    """Return the threat or violence words in the text, in order of first appearance.

    Traditional characters are folded to simplified first, so 殺 and 報復 are found as 杀 and
    报复. A longer word wins over a shorter one inside it (打死, not a bare 死).
    """
    plain = _HARMLESS_RE.sub(" ", to_simplified(text or ""))
    return list(dict.fromkeys(m.group(0) for m in _THREAT_RE.finditer(plain)))


def money(amount: Decimal) -> str:
    """Return an amount as Chinese reports write it: 100,000 or 12,345.50."""
    if amount == amount.to_integral_value():
        return f"{int(amount):,}"
    return f"{amount:,.2f}"


@dataclass(frozen=True)
class Facts:
    """What the rules read about one dispute."""

    type_code: str
    scale: str
    people_count: int
    amount: Decimal
    violence: bool = False
    death: bool = False
    special_groups: bool = False
    difficult: bool = False
    channels_involved: int = 1
    threat_words: tuple[str, ...] = ()
    threat_state: str = ThreatState.NONE
    # Days to the nearest repeat dispute between the same parties, None when there is none.
    repeat_days: int | None = None


@dataclass(frozen=True)
class Reason:
    """One rule that applied: its stable code, the colour it gives, and its parameters."""

    rule: str
    colour: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """Return the reason in the active language."""
        return reason_text(self.rule, self.params)

    def as_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "colour": self.colour, "params": self.params}


def reason_text(rule: str, params: dict[str, Any]) -> str:
    """Return the sentence for a stored reason (rule code and parameters)."""
    texts = {
        "violence": gettext("登记时报告有暴力或威胁行为"),
        "threat_pending": gettext("叙述中出现威胁或暴力字词（%(words)s），待人工确认"),
        "threat_confirmed": gettext("经人工确认，叙述中有威胁或暴力内容（%(words)s）"),
        "death": gettext("涉及人员死亡"),
        "people": gettext("涉及%(n)s人（5人及以上）"),
        "amount_red": gettext("涉及金额%(amount)s元（10万元及以上）"),
        "repeat": gettext("同一当事人%(days)s天内再次发生纠纷（90天内重复纠纷）"),
        "amount_orange": gettext("涉及金额%(amount)s元（1万元至10万元）"),
        "channels": gettext("涉及%(n)s个调解渠道或部门"),
        "special_groups": gettext("涉及特殊群体（老人、未成年人、残疾人、孕妇等）"),
        "difficult": gettext("疑难复杂纠纷"),
        "ordinary": gettext("未触发红、橙、黄色预警规则，属一般纠纷"),
    }
    template = texts.get(rule)
    if template is None:
        return rule
    return template % params if params else template


def colour_for(facts: Facts) -> tuple[str, list[Reason]]:
    """Return the warning colour and every reason that applies, most serious first."""
    reasons: list[Reason] = []
    if facts.violence:
        reasons.append(Reason("violence", Colour.RED))
    if facts.threat_words and facts.threat_state == ThreatState.PENDING:
        reasons.append(
            Reason("threat_pending", Colour.RED, {"words": "、".join(facts.threat_words)})
        )
    elif facts.threat_words and facts.threat_state == ThreatState.CONFIRMED:
        reasons.append(
            Reason("threat_confirmed", Colour.RED, {"words": "、".join(facts.threat_words)})
        )
    if facts.death:
        reasons.append(Reason("death", Colour.RED))
    if facts.people_count >= RED_PEOPLE:
        reasons.append(Reason("people", Colour.RED, {"n": facts.people_count}))
    if facts.amount >= RED_AMOUNT:
        reasons.append(Reason("amount_red", Colour.RED, {"amount": money(facts.amount)}))
    if facts.repeat_days is not None and facts.repeat_days <= REPEAT_WINDOW_DAYS:
        reasons.append(Reason("repeat", Colour.RED, {"days": facts.repeat_days}))
    if ORANGE_AMOUNT <= facts.amount < RED_AMOUNT:
        reasons.append(Reason("amount_orange", Colour.ORANGE, {"amount": money(facts.amount)}))
    if facts.channels_involved >= ORANGE_CHANNELS:
        reasons.append(Reason("channels", Colour.ORANGE, {"n": facts.channels_involved}))
    if facts.special_groups:
        reasons.append(Reason("special_groups", Colour.ORANGE))
    if facts.difficult:
        reasons.append(Reason("difficult", Colour.YELLOW))
    if not reasons:
        return Colour.BLUE, [Reason("ordinary", Colour.BLUE)]
    colour = max((r.colour for r in reasons), key=SEVERITY.__getitem__)
    return colour, reasons


def grade_for(facts: Facts, colour: str) -> str:
    """Return the routing grade from the colour, the scale, the type and the amount."""
    if colour == Colour.RED or facts.scale == Scale.MAJOR_GROUP:
        return Grade.MAJOR
    if (
        colour == Colour.BLUE
        and facts.scale == Scale.INDIVIDUAL
        and facts.amount == 0
        and facts.type_code[:2] in TRIVIA_CLASSES
    ):
        return Grade.TRIVIA
    return Grade.CIVIL


@dataclass(frozen=True)
class Triage:
    """The outcome of the rules for one dispute."""

    grade: str
    colour: str
    reasons: tuple[Reason, ...]

    def reasons_json(self) -> list[dict[str, Any]]:
        return [r.as_json() for r in self.reasons]

    @property
    def texts(self) -> list[str]:
        return [r.text for r in self.reasons]


def triage(facts: Facts) -> Triage:
    """Return the grade, colour and reasons the written rules give for these facts."""
    colour, reasons = colour_for(facts)
    return Triage(grade=grade_for(facts, colour), colour=colour, reasons=tuple(reasons))
