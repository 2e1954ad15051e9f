"""Two years of disputes for 雷锋派出所: the registry, the routing list and ~1,400 cases.

Everything is planned in memory from one seeded random generator and the day of the load, then
written in bulk: the cases with their parties (encrypted by the model's fields), sessions,
agreements with items and signatures, follow-up visits, referrals and repeat links, the search
index, and one audit entry per step so that every case's timeline tells its story. The grade,
colour and reasons come from `triage.triage` on each case's facts, never written by hand.

The invariants the services keep hold here too: case and agreement numbers are taken from
`core.casenumbers` in date order (later intakes continue the sequence), overdue cases get
their yellow or red card from `routing.supervision_sweep`, and the report's rollups are
rebuilt at the end. A second run finds the demo's cases (by their intake key) and adds nothing.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from django.db.models import F, Q
from django.utils import timezone
from shapely.geometry import Point, shape

from fengqiao.accounts.models import Membership, User
from fengqiao.areas.models import Area, AreaKind
from fengqiao.core.audit import audit_records_bulk
from fengqiao.core.casenumbers import case_number_next
from fengqiao.core.models import CaseCounter
from fengqiao.core.pii import blind_index, id_check_digit
from fengqiao.core.search import search_index
from fengqiao.core.text import search_document
from fengqiao.demo import names
from fengqiao.demo.dispute_texts import (
    FOLLOWUP_BROKEN,
    FOLLOWUP_HONOURED,
    MINUTES_AGREED,
    MINUTES_FAILED,
    MINUTES_FIRST,
    REFERRALS,
    SCENARIOS,
    SEED_FIGHT,
    SEED_FIGHT_MINUTES,
    SEED_FIGHT_TERMS,
    SEED_MIL,
    SEED_MIL_MINUTES,
    SEED_MIL_TERMS,
    SEED_WAGES,
    SEED_WAGES_MINUTES,
    SEED_WAGES_TERMS,
    TERMINATE_NOTES,
    WITHDRAW_NOTES,
    Scenario,
)
from fengqiao.demo.plan import ACTOR, LEIFENG, SEED
from fengqiao.disputes.choices import (
    AgreementForm,
    Channel,
    Consent,
    FollowUpKind,
    FollowUpState,
    Grade,
    MediatorKind,
    Outcome,
    PartyKind,
    PartyRole,
    ReferralOutcome,
    Scale,
    SessionState,
    Signature,
    Source,
    Status,
    ThreatState,
    VisitResult,
)
from fengqiao.disputes.deadlines import DEADLINE_DAYS, supervision_sweep
from fengqiao.disputes.models import (
    Agreement,
    AgreementItem,
    AgreementSignature,
    Attendance,
    Dispute,
    DisputeLink,
    DisputeType,
    Extension,
    FollowUp,
    LawyerDuty,
    MediationSession,
    Mediator,
    Party,
    Referral,
    RoutingRule,
    ScreeningVisit,
)
from fengqiao.disputes.registry import address_key
from fengqiao.disputes.triage import Facts, threat_words, triage
from fengqiao.disputes.validation import name_address_key

CASE_PREFIX = "MD"  # as services.CASE_PREFIX
AGREEMENT_PREFIX = "XY"  # as mediation.AGREEMENT_PREFIX
KEY_PREFIX = "demo-"  # the intake key of every demo case: a second run finds them
DAYS = 730
PER_YEAR = 700
# More disputes in summer and before the Spring Festival.
MONTH_WEIGHT = {
    1: 1.2,
    2: 0.85,
    3: 0.9,
    4: 0.95,
    5: 1.0,
    6: 1.1,
    7: 1.25,
    8: 1.25,
    9: 1.0,
    10: 0.95,
    11: 1.0,
    12: 1.15,
}
SOURCE_WEIGHT = {
    Source.APPLICATION: 40,
    Source.POLICE_CALL: 25,
    Source.SCREENING: 20,
    Source.TIP: 10,
    Source.REFERRAL: 5,
}
# The open cases every page needs: how many of each state, and how many days ago reported.
OPEN_PLAN: tuple[tuple[str, int, tuple[int, int]], ...] = (
    (Status.RECEIVED, 4, (0, 2)),
    (Status.TRIAGED, 4, (0, 3)),
    (Status.ASSIGNED, 6, (1, 12)),
    (Status.MEDIATING, 12, (2, 30)),
    (Status.AGREED, 4, (3, 20)),
    (Status.FAILED, 3, (4, 20)),
    (Status.REOPENED, 3, (38, 80)),
)
REPEATS = 6
EXTENSION_REASON = "案情较复杂，当事人需补充证据材料，申请延长办理期限。"
ID_REGIONS = ("430104", "430102", "430103", "430105", "430111", "430121", "430124", "431021")
ORG_WORDS = names.SHOP_WORDS


# --- plan: registry and routing list ---


@dataclass(frozen=True)
class MediatorPlan:
    key: str  # a stable handle inside this module
    kind: str
    name: str
    organisation: str
    address: str
    specialties: tuple[str, ...]
    username: str = ""  # the demo account linked to this registry row


@dataclass(frozen=True)
class RulePlan:
    type_code: str
    grade: str
    channel: str
    pool: tuple[str, ...]  # mediator kinds
    note: str
    use_duty_rota: bool = False


RULES: tuple[RulePlan, ...] = (
    RulePlan(
        "", Grade.TRIVIA, Channel.COMMUNITY, ("community",), "日常琐事由网格、社区调解员就地化解"
    ),
    RulePlan("", Grade.CIVIL, Channel.COMMUNITY, ("community",), "民间纠纷由社区人民调解员调解"),
    RulePlan("", Grade.MAJOR, Channel.JOINT, ("joint", "judicial"), "重大矛盾由阳光联调小组调处"),
    RulePlan("01", "", Channel.COMMUNITY, ("community",), "婚恋家庭纠纷由社区调解员就近调解"),
    RulePlan("07", Grade.CIVIL, Channel.JUDICIAL, ("judicial",), "劳动争议由司法所调解"),
    RulePlan(
        "07", Grade.MAJOR, Channel.JOINT, ("joint", "judicial"), "群体性讨薪由联调小组会同劳动监察"
    ),
    RulePlan("06", Grade.CIVIL, Channel.LAWYER, ("lawyer",), "合同纠纷由驻所律师调解", True),
    RulePlan("08", Grade.CIVIL, Channel.LAWYER, ("lawyer",), "借贷纠纷由驻所律师调解", True),
    RulePlan("0503", "", Channel.POLICE, ("police",), "交通事故赔偿由社区民警警调联动"),
    RulePlan("03", "", Channel.POLICE, ("police",), "打架斗殴引发的纠纷由社区民警警调联动"),
    RulePlan("0402", Grade.CIVIL, Channel.SECTOR, ("sector", "community"), "物业纠纷先由物业调解"),
)


# --- plan: cases ---


@dataclass
class PartyPlan:
    kind: str
    role: str
    name: str
    phone: str
    id_number: str
    address: str
    consent: str = Consent.AGREED
    consent_note: str = ""


@dataclass
class Story:
    """One case and everything that happened to it, in memory until written."""

    key: str
    scenario: Scenario | None
    dispute: Dispute
    parties: list[PartyPlan]
    target: str  # the status it ends in
    words: dict[str, str]  # the narrative's fill-ins, reused by minutes and terms
    seed: str = ""  # "mil", "fight" or "wages" for the seeds' own cases
    repeat_of: Story | None = None
    sessions: list[dict[str, Any]] = field(default_factory=list)
    agreements: list[dict[str, Any]] = field(default_factory=list)
    referral: dict[str, Any] | None = None
    extension: dict[str, Any] | None = None
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    party_rows: list[Party] = field(default_factory=list)


class _People:
    """Fake but well-formed people: names, mobiles and ID numbers (GB 11643), never reused."""

    def __init__(self, rng: random.Random, taken: set[str]) -> None:
        self.rng = rng
        self.names = set(taken)
        self.phones: set[str] = set()
        self.ids: set[str] = set()

    def name(self) -> str:
        while True:
            text = names.person(self.rng)
            if text not in self.names:
                self.names.add(text)
                return text

    def phone(self) -> str:
        while True:
            text = names.mobile(self.rng)
            if text not in self.phones:
                self.phones.add(text)
                return text

    def id_number(self, today: date, age: tuple[int, int] = (22, 70)) -> str:
        while True:
            born = today - timedelta(days=self.rng.randint(age[0] * 365, age[1] * 365))
            first17 = f"{self.rng.choice(ID_REGIONS)}{born:%Y%m%d}{self.rng.randint(1, 999):03d}"
            text = first17 + id_check_digit(first17)
            if text not in self.ids:
                self.ids.add(text)
                return text


@dataclass
class Ground:
    """The station as the plan needs it: communities, grids and their shapes."""

    station: Area
    communities: list[Area]
    grids: list[Area]
    grids_of: dict[int, list[Area]]
    shapes: dict[int, Any]
    officers: dict[int, User]  # community id -> its community officer
    chief: User | None
    staff: dict[str, User]


def _ground(station: Area) -> Ground:
    areas = list(Area.objects.filter(station=station).order_by("code"))
    communities = [a for a in areas if a.kind in (AreaKind.COMMUNITY, AreaKind.VILLAGE)]
    grids = [a for a in areas if a.kind == AreaKind.GRID]
    grids_of: dict[int, list[Area]] = defaultdict(list)
    for g in grids:
        grids_of[g.parent_id or 0].append(g)
    officers: dict[int, User] = {}
    staff: dict[str, User] = {}
    chief = None
    for m in (
        Membership.objects.filter(Q(area_id=station.pk) | Q(area__station_id=station.pk))
        .select_related("user", "area")
        .order_by("user__username")
    ):
        staff[m.user.username] = m.user
        if m.role == "chief" and m.area_id == station.pk:
            chief = m.user
        if m.role == "officer" and m.area_id != station.pk and m.area_id not in officers:
            officers[m.area_id] = m.user
    return Ground(
        station=station,
        communities=communities,
        grids=grids,
        grids_of=grids_of,
        shapes={g.pk: shape(g.boundary) for g in grids if g.boundary},
        officers=officers,
        chief=chief,
        staff=staff,
    )


def _point(rng: random.Random, ground: Ground, grid: Area) -> tuple[float | None, float | None]:
    """Return a random point inside the grid, or its centroid."""
    poly = ground.shapes.get(grid.pk)
    if poly is None:
        return grid.centroid_lat, grid.centroid_lng
    minx, miny, maxx, maxy = poly.bounds
    for _i in range(30):
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if poly.contains(Point(x, y)):
            return round(y, 6), round(x, 6)
    return grid.centroid_lat, grid.centroid_lng


def _mediator_plans(rng: random.Random, ground: Ground, people: _People) -> list[MediatorPlan]:
    """Return the registry: community mediators, lawyers, judicial staff, joint group, police."""
    staff = ground.staff
    plans: list[MediatorPlan] = []
    street = LEIFENG.address_prefix
    # The demo's mediator accounts: one per community, then the two lawyers of the station.
    mediator_users = sorted(
        (u for u in staff.values() if u.username.startswith("lf_mediator")),
        key=lambda u: u.username,
    )
    specialties = (("01", "02"), ("02", "04"), ("01", "0402"), ("02", "09"), ("01", "02", "06"))
    for i, c in enumerate(ground.communities):
        user = mediator_users[i] if i < len(mediator_users) else None
        plans.append(
            MediatorPlan(
                f"community{i}",
                MediatorKind.COMMUNITY,
                user.full_name if user else people.name(),
                f"{c.name}人民调解委员会",
                f"{street}{c.name}",
                specialties[i % len(specialties)],
                user.username if user else "",
            )
        )
    for k, note in enumerate(("退休教师", "老党员", "退休法官", "网格长")):
        c = ground.communities[k % len(ground.communities)]
        plans.append(
            MediatorPlan(
                f"community_extra{k}",
                MediatorKind.COMMUNITY,
                people.name(),
                f"{c.name}人民调解委员会（{note}）",
                f"{street}{c.name}",
                specialties[(k + 2) % len(specialties)],
            )
        )
    lawyers = mediator_users[len(ground.communities) :]
    firms = ("湖南麓山律师事务所", "湖南湘江律师事务所", "湖南星城律师事务所")
    for k in range(6):
        user = lawyers[k] if k < len(lawyers) else None
        plans.append(
            MediatorPlan(
                f"lawyer{k}",
                MediatorKind.LAWYER,
                user.full_name if user else people.name(),
                firms[k % len(firms)],
                "",
                ("06", "08", "07"),
                user.username if user else "",
            )
        )
    for k in range(3):
        plans.append(
            MediatorPlan(
                f"judicial{k}",
                MediatorKind.JUDICIAL,
                people.name(),
                "雷锋街道司法所",
                "",
                ("07", "01", "09"),
            )
        )
    for k, org in enumerate(
        ("雷锋街道综治中心", "岳麓区劳动保障监察大队", "雷锋街道信访办", "雷锋街道党工委")
    ):
        plans.append(
            MediatorPlan(f"joint{k}", MediatorKind.JOINT, people.name(), org, "", ("07", "09"))
        )
    for k, (cid, officer) in enumerate(sorted(ground.officers.items())[:3]):
        c = next(x for x in ground.communities if x.pk == cid)
        plans.append(
            MediatorPlan(
                f"police{k}",
                MediatorKind.POLICE,
                officer.full_name,
                f"雷锋派出所{c.name}警务室",
                "",
                ("03", "0503"),
                officer.username,
            )
        )
    plans.append(
        MediatorPlan(
            "sector0",
            MediatorKind.SECTOR,
            people.name(),
            "和润园社区物业调解工作室",
            "",
            ("0402",),
        )
    )
    return plans


def _load_registry(
    ground: Ground, plans: list[MediatorPlan], rng: random.Random, counts: Counter[str]
) -> dict[str, Mediator]:
    """Create the missing registry rows (by name), the routing list and the duty rota."""
    station = ground.station
    existing = {m.name: m for m in Mediator.objects.filter(station=station)}
    new: list[Mediator] = []
    by_key: dict[str, Mediator] = {}
    for p in plans:
        m = existing.get(p.name)
        if m is None:
            user = ground.staff.get(p.username) if p.username else None
            m = Mediator(
                station=station,
                user=user,
                kind=p.kind,
                name=p.name,
                organisation=p.organisation,
                phone=names.mobile(rng),
                address=p.address,
                specialties=list(p.specialties),
            )
            m.phone_bidx = blind_index("party_phone", m.phone)
            m.name_address_bidx = name_address_key(m.name, m.address)
            m.address_bidx = address_key(m.address)
            new.append(m)
        by_key[p.key] = m
    if new:
        Mediator.objects.bulk_create(new)
        audit_records_bulk(
            actor=ACTOR,
            action="disputes.mediator.created",
            objs=new,
            changes=lambda m: {"name": m.name, "kind": m.kind, "organisation": m.organisation},
        )
        counts["mediators"] += len(new)
    if not RoutingRule.objects.filter(station=station).exists():
        types = {t.code: t for t in DisputeType.objects.all()}
        kinds: dict[str, list[Mediator]] = defaultdict(list)
        for p in plans:
            kinds[p.kind].append(by_key[p.key])
        rules = [
            RoutingRule(
                station=station,
                type=types[r.type_code] if r.type_code else None,
                grade=r.grade,
                channel=r.channel,
                use_duty_rota=r.use_duty_rota,
                note=r.note,
            )
            for r in RULES
        ]
        RoutingRule.objects.bulk_create(rules)
        through = RoutingRule.pool.through
        through.objects.bulk_create(
            [
                through(routingrule_id=rule.pk, mediator_id=m.pk)
                for rule, plan in zip(rules, RULES, strict=True)
                for kind in plan.pool
                for m in kinds[kind]
            ]
        )
        audit_records_bulk(
            actor=ACTOR,
            action="disputes.routingrule.created",
            objs=rules,
            changes=lambda r: {
                "type": r.type.code if r.type else "",
                "grade": r.grade,
                "channel": r.channel,
                "note": r.note,
            },
        )
        counts["routing_rules"] += len(rules)
    # The lawyers' rota: one lawyer a working day, from last week to four weeks on.
    lawyers = [by_key[p.key] for p in plans if p.kind == MediatorKind.LAWYER]
    today = timezone.localdate()
    have = set(LawyerDuty.objects.filter(station=station).values_list("mediator_id", "day"))
    duties = []
    for offset in range(-7, 29):
        day = today + timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        lawyer = lawyers[day.toordinal() % len(lawyers)]
        if (lawyer.pk, day) not in have:
            duties.append(LawyerDuty(station=station, mediator=lawyer, day=day, note="驻所值班"))
    if duties:
        LawyerDuty.objects.bulk_create(duties)
        counts["duties"] += len(duties)
    return by_key


def _rule_for(
    rules: list[RoutingRule], type_: DisputeType, grade: str, community_id: int
) -> RoutingRule | None:
    """The most specific line for the case, ranked as `routing.rule_for` ranks them."""
    found = [
        r
        for r in rules
        if r.active
        and r.type_id in (None, type_.pk, type_.parent_id)
        and r.grade in ("", grade)
        and r.community_id in (None, community_id)
    ]

    def rank(r: RoutingRule) -> tuple[int, int, int, int]:
        type_rank = 0 if r.type_id is None else (2 if r.type_id == type_.pk else 1)
        return (-type_rank, -(r.community_id is not None), -(r.grade != ""), r.pk)

    return min(found, key=rank) if found else None


def _local(day: date, hour: float) -> datetime:
    """Return the aware moment `hour` hours into the local day."""
    return timezone.make_aware(datetime.combine(day, time.min)) + timedelta(hours=hour)


def _money(value: Decimal) -> str:
    return f"{int(value):,}" if value == value.to_integral_value() else f"{value:,.2f}"


class Planner:
    """Plans every case of the two years: facts, parties, path and the steps along it."""

    def __init__(self, ground: Ground, mediators: dict[str, Mediator], seed: int) -> None:
        self.rng = random.Random(f"{seed}-disputes")
        self.ground = ground
        self.now = timezone.now()
        self.today = timezone.localdate(self.now)
        self.people = _People(self.rng, {u.full_name for u in ground.staff.values()})
        self.types = {t.code: t for t in DisputeType.objects.select_related("stat_type")}
        self.rules = list(
            RoutingRule.objects.filter(station=ground.station).prefetch_related("pool")
        )
        self.pools = {r.pk: sorted(r.pool.all(), key=lambda m: m.pk) for r in self.rules}
        self.mediators = mediators
        self.community_mediator = {
            c.pk: mediators[f"community{i}"]
            for i, c in enumerate(ground.communities)
            if f"community{i}" in mediators
        }
        self.police = [m for k, m in mediators.items() if k.startswith("police")]
        self.judicial = [m for k, m in mediators.items() if k.startswith("judicial")]
        self.joint = [m for k, m in mediators.items() if k.startswith("joint")]
        self.villages = [c for c in ground.communities if c.kind == AreaKind.VILLAGE]
        weights = [c.population or 1 for c in ground.communities]
        self.community_weights = weights
        self.stories: list[Story] = []

    # -- facts --

    def _grid(self, village: bool) -> Area:
        pool = self.villages if village and self.villages else self.ground.communities
        weights = [c.population or 1 for c in pool]
        community = self.rng.choices(pool, weights=weights)[0]
        return self.rng.choice(self.ground.grids_of[community.pk])

    def _address(self, grid: Area) -> str:
        community = next(c for c in self.ground.communities if c.pk == grid.parent_id)
        streets = next(
            (p.streets for p in LEIFENG.communities if p.name == community.name), ("雷锋大道",)
        )
        street = self.rng.choice(streets)
        if community.kind == AreaKind.VILLAGE:
            return f"{LEIFENG.address_prefix}{community.name}{self.rng.randint(1, 12)}组"
        return (
            f"{LEIFENG.address_prefix}{street}{self.rng.randint(1, 399)}号"
            f"{self.rng.randint(1, 12)}栋{self.rng.randint(1, 30)}0{self.rng.randint(1, 4)}"
        )

    def _org(self, s: Scenario) -> str:
        return self.rng.choice(s.org).format(w=self.rng.choice(ORG_WORDS))

    def _person(self, role: str, address: str, age: tuple[int, int] = (22, 70)) -> PartyPlan:
        return PartyPlan(
            PartyKind.PERSON,
            role,
            self.people.name(),
            self.people.phone(),
            self.people.id_number(self.today, age),
            address,
        )

    def _amount(self, s: Scenario) -> Decimal:
        if self.rng.random() >= s.amount_share or s.amount[1] == 0:
            return Decimal(0)
        low, high = s.amount
        # Amounts cluster low, with a long tail: a log-uniform draw, rounded as people say them.
        value = low * (high / low) ** self.rng.random()
        step = 100 if value < 20000 else 1000
        return Decimal(max(low, round(value / step) * step))

    def _dispute(
        self,
        *,
        key: str,
        type_code: str,
        reported: datetime,
        narrative: str,
        grid: Area,
        address: str,
        source: str,
        scale: str,
        people_count: int,
        amount: Decimal,
        violence: bool = False,
        special_groups: bool = False,
        difficult: bool = False,
        channels: int = 1,
    ) -> Dispute:
        t = self.types[type_code]
        lat, lng = _point(self.rng, self.ground, grid)
        return Dispute(
            station=self.ground.station,
            community_id=grid.parent_id or 0,
            area=grid,
            narrative=narrative,
            occurred_at=reported - timedelta(hours=self.rng.uniform(0.5, 72)),
            reported_at=reported,
            address=address,
            lat=lat,
            lng=lng,
            source=source,
            referrer=(
                self.rng.choice(["court", "petition", "other"]) if source == Source.REFERRAL else ""
            ),
            type=t,
            stat_type=t.stat_type,
            scale=scale,
            people_count=people_count,
            amount=amount,
            violence=violence,
            special_groups=special_groups,
            difficult=difficult,
            channels_involved=channels,
            threat_words=threat_words(narrative),
            intake_key=f"{KEY_PREFIX}{key}",
            status_changed_at=reported,
        )

    def plan_case(self, key: str, day: date, s: Scenario) -> Story:
        rng = self.rng
        reported = _local(day, rng.uniform(8, 20.5))
        grid = self._grid(s.village_only)
        address = self._address(grid)
        group = rng.random() < s.group_share
        people_count = rng.randint(max(3, s.people[0]), max(3, s.people[1])) if group else 2
        amount = self._amount(s)
        org = self._org(s) if s.org else ""
        a = self._person(PartyRole.APPLICANT, address)
        parties = [a]
        if org:
            parties.append(
                PartyPlan(PartyKind.ORGANISATION, PartyRole.RESPONDENT, org, "", "", address)
            )
        else:
            parties.append(self._person(PartyRole.RESPONDENT, address))
        if group and people_count >= 3:
            parties.insert(1, self._person(PartyRole.APPLICANT, address))
        words = {
            "a": a.name,
            "b": parties[-1].name,
            "org": org,
            "addr": address,
            "street": rng.choice(("雷锋大道", "望雷大道", "桐林坳路", "岳华路", "黄桥大道")),
            "amount": _money(amount) if amount else "若干",
            "n": str(people_count),
            "months": str(rng.randint(2, 5)),
        }
        narrative = rng.choice(s.narratives).format(**words)
        special = rng.random() < s.special_share
        d = self._dispute(
            key=key,
            type_code=s.type_code,
            reported=reported,
            narrative=narrative,
            grid=grid,
            address=address,
            source=rng.choices(list(SOURCE_WEIGHT), weights=list(SOURCE_WEIGHT.values()))[0],
            scale=(Scale.GROUP if people_count >= 3 else Scale.INDIVIDUAL),
            people_count=people_count,
            amount=amount,
            violence=rng.random() < s.violence_share,
            special_groups=special,
            difficult=rng.random() < s.difficult_share,
            channels=2 if (amount >= 50000 and rng.random() < 0.4) else 1,
        )
        if d.threat_words:
            # A person has read the words: real threats confirmed, a figure of speech dismissed.
            d.threat_state = (
                ThreatState.CONFIRMED
                if s.violent and rng.random() < 0.85
                else ThreatState.DISMISSED
            )
        return Story(key, s, d, parties, Status.CLOSED, words)

    # -- the whole plan --

    def plan(self) -> list[Story]:
        rng = self.rng
        start = self.today - timedelta(days=DAYS - 1)
        days = [start + timedelta(days=i) for i in range(DAYS)]
        n = round(PER_YEAR * DAYS / 365) - 3 - REPEATS
        picked = sorted(rng.choices(days, weights=[MONTH_WEIGHT[d.month] for d in days], k=n))
        for i, day in enumerate(picked):
            s = rng.choices(SCENARIOS, weights=[self._season(sc, day) for sc in SCENARIOS])[0]
            self.stories.append(self.plan_case(f"{i + 1:05d}", day, s))
        self._plan_repeats()
        self._plan_seeds()
        self.stories.sort(key=lambda st: st.dispute.reported_at)
        self._choose_open()
        for st in self.stories:
            self._triage(st)
            self._path(st)
            self._extension(st)
        return self.stories

    def _extension(self, st: Story) -> None:
        """A late civil case had its deadline extended; an overdue running one asks for it."""
        d = st.dispute
        if d.deadline is None:
            return
        if d.closed_at is not None and d.grade == Grade.CIVIL:
            late = (timezone.localdate(d.closed_at) - d.deadline).days
            if late > 0 and self.rng.random() < 0.5:
                days = late + self.rng.randint(1, 5)
                st.extension = {"days": days, "state": "approved", "reason": EXTENSION_REASON}
                d.deadline += timedelta(days=days)
                d.extended_days = days
                st.events.append(("disputes.extension.requested", {"days": days}))
                st.events.append(("disputes.extension.approved", {"days": days}))
        elif d.status == Status.MEDIATING and d.deadline < self.today and self.rng.random() < 0.5:
            st.extension = {"days": 10, "state": "pending", "reason": EXTENSION_REASON}
            st.events.append(("disputes.extension.requested", {"days": 10}))

    @staticmethod
    def _season(s: Scenario, day: date) -> float:
        if day.month in (6, 7, 8):
            return s.weight * s.summer
        if day.month in (12, 1):
            return s.weight * s.festival
        return s.weight

    def _plan_repeats(self) -> None:
        """A few neighbours and families who come back within 90 days: linked, and red."""
        rng = self.rng
        candidates = [
            st
            for st in self.stories
            if st.scenario
            and st.scenario.key in ("noise", "leak", "marriage", "space")
            and (self.today - timezone.localdate(st.dispute.reported_at)).days > 120
            and all(p.kind == PartyKind.PERSON for p in st.parties)
        ]
        for k, first in enumerate(rng.sample(candidates, min(REPEATS, len(candidates)))):
            assert first.scenario is not None
            gap = rng.randint(12, 80)
            day = timezone.localdate(first.dispute.reported_at) + timedelta(days=gap)
            again = self.plan_case(f"R{k + 1:04d}", day, first.scenario)
            a, b = first.parties[0], first.parties[-1]
            again.parties = [
                PartyPlan(a.kind, a.role, a.name, a.phone, a.id_number, a.address),
                PartyPlan(b.kind, b.role, b.name, b.phone, b.id_number, b.address),
            ]
            words = {**first.words, "amount": again.words["amount"]}
            d = again.dispute
            d.narrative = "再次发生纠纷：" + rng.choice(first.scenario.narratives).format(**words)
            d.threat_words = threat_words(d.narrative)
            d.area, d.community_id = first.dispute.area, first.dispute.community_id
            d.address, d.lat, d.lng = first.dispute.address, first.dispute.lat, first.dispute.lng
            again.words, again.repeat_of = words, first
            self.stories.append(again)

    def _recent_august(self) -> date:
        year = self.today.year if self.today.month > 8 else self.today.year - 1
        return date(year, 8, 1)

    def _plan_seeds(self) -> None:
        """The seeds' own cases: the quarrel over child-rearing, the fight, the 120,000 wages."""
        rng = self.rng
        g = self.ground
        august = self._recent_august()
        # 1. Mother- and daughter-in-law (seed 002): family, community mediator and officer.
        c0 = g.communities[0]
        grid = g.grids_of[c0.pk][0]
        address = f"{LEIFENG.address_prefix}和润路88号和润园小区6栋1单元502"
        mil = self._person(PartyRole.APPLICANT, address, (55, 68))
        dil = self._person(PartyRole.RESPONDENT, address, (26, 34))
        helper = self.people.name()
        words = {"a": mil.name, "b": dil.name, "c": helper, "addr": "和润园小区"}
        d = self._dispute(
            key="seed-mil",
            type_code="0102",
            reported=_local(august + timedelta(days=11), 15.5),
            narrative=SEED_MIL.format(**words),
            grid=grid,
            address=address,
            source=Source.TIP,
            scale=Scale.INDIVIDUAL,
            people_count=2,
            amount=Decimal(0),
        )
        self.stories.append(Story("seed-mil", None, d, [mil, dil], Status.CLOSED, words, "mil"))
        # 2. The workplace fight followed by threats (seed 002): red, kept from turning criminal.
        c1 = g.communities[2 % len(g.communities)]
        grid = g.grids_of[c1.pk][0]
        address = f"{LEIFENG.address_prefix}望雷大道科技园3号厂房"
        day = date(august.year, 10, 17)
        if day >= self.today - timedelta(days=20):
            day = date(august.year - 1, 10, 17)
        zhang = self._person(PartyRole.APPLICANT, address, (23, 30))
        hu = self._person(PartyRole.RESPONDENT, address, (48, 56))
        words = {"a": zhang.name, "b": hu.name, "d": f"{day.month}月{day.day}日"}
        d = self._dispute(
            key="seed-fight",
            type_code="0303",
            reported=_local(day, 10.25),
            narrative=SEED_FIGHT.format(**words),
            grid=grid,
            address=address,
            source=Source.POLICE_CALL,
            scale=Scale.INDIVIDUAL,
            people_count=2,
            amount=Decimal(800),
            violence=True,
        )
        d.threat_state = ThreatState.CONFIRMED
        self.stories.append(
            Story("seed-fight", None, d, [zhang, hu], Status.CLOSED, words, "fight")
        )
        # 3. 120,000 RMB of property workers' wages, settled in a day (seed 002): joint mediation.
        grid = g.grids_of[c0.pk][1 % len(g.grids_of[c0.pk])]
        org = f"{rng.choice(ORG_WORDS)}物业服务有限公司"
        address = f"{LEIFENG.address_prefix}和润路66号{org}"
        reps = [self._person(PartyRole.APPLICANT, address, (35, 58)) for _i in range(2)]
        company = PartyPlan(PartyKind.ORGANISATION, PartyRole.RESPONDENT, org, "", "", address)
        words = {"a": reps[0].name, "b": reps[1].name, "org": org, "c": "和润园小区"}
        d = self._dispute(
            key="seed-wages",
            type_code="0703",
            reported=_local(august + timedelta(days=19), 9.0),
            narrative=SEED_WAGES.format(**words),
            grid=grid,
            address=address,
            source=Source.APPLICATION,
            scale=Scale.GROUP,
            people_count=18,
            amount=Decimal(120000),
            channels=3,
        )
        self.stories.append(
            Story("seed-wages", None, d, [*reps, company], Status.CLOSED, words, "wages")
        )

    def _choose_open(self) -> None:
        """Pick the open cases: a few in every state, among the recent ones."""
        rng = self.rng
        free = [st for st in self.stories if not st.seed and st.repeat_of is None]
        for status, count, (low, high) in OPEN_PLAN:
            window = [
                st
                for st in free
                if low <= (self.today - timezone.localdate(st.dispute.reported_at)).days <= high
                and st.target == Status.CLOSED
            ]
            for st in rng.sample(window, min(count, len(window))):
                st.target = status
        # Of the finished, some were referred, withdrawn or terminated.
        for st in free:
            if st.target != Status.CLOSED:
                continue
            roll = rng.random()
            if roll < 0.12:
                st.target = Status.REFERRED
            elif roll < 0.18:
                st.target = Status.WITHDRAWN
            elif roll < 0.20:
                st.target = Status.TERMINATED
        # The draw can leave no threat among the newest cases, depending on the day the demo is
        # built; the demo always shows one waiting for a person to confirm it.
        received = [st for st in self.stories if st.target == Status.RECEIVED]
        if received and not any(st.dispute.threat_words for st in received):
            d = received[0].dispute
            d.narrative += "对方扬言要报复。"
            d.threat_words = threat_words(d.narrative)
        # Threat words on a case not yet triaged wait for a person to confirm them.
        for st in reversed(self.stories):
            if st.target == Status.RECEIVED and st.dispute.threat_words:
                st.dispute.threat_state = ThreatState.PENDING

    def _triage(self, st: Story) -> None:
        d = st.dispute
        if d.threat_words and d.threat_state == ThreatState.NONE:
            d.threat_state = (
                ThreatState.PENDING if st.target == Status.RECEIVED else (ThreatState.CONFIRMED)
            )
        repeat_days = None
        if st.repeat_of is not None:
            repeat_days = abs(
                (
                    timezone.localdate(d.occurred_at)
                    - timezone.localdate(st.repeat_of.dispute.occurred_at)
                ).days
            )
        result = triage(
            Facts(
                type_code=d.type.code,
                scale=d.scale,
                people_count=d.people_count,
                amount=Decimal(d.amount),
                violence=d.violence,
                death=d.death,
                special_groups=d.special_groups,
                difficult=d.difficult,
                channels_involved=d.channels_involved,
                threat_words=tuple(d.threat_words),
                threat_state=d.threat_state,
                repeat_days=repeat_days,
            )
        )
        d.grade_auto = d.grade = result.grade
        d.colour_auto = d.colour = result.colour
        d.colour_reasons = result.reasons_json()
        st.events.append(
            (
                "disputes.dispute.created",
                {
                    "source": d.source,
                    "kind": d.type.code,
                    "scheduled_at": d.reported_at.isoformat(),
                },
            )
        )
        st.events.append(
            (
                "disputes.dispute.triaged",
                {
                    "cause": "intake",
                    "grade": result.grade,
                    "colour": result.colour,
                    "reasons": result.texts,
                    "threat_words": list(d.threat_words),
                },
            )
        )
        if st.repeat_of is not None:
            st.events.append(
                (
                    "disputes.dispute.linked",
                    {"other": st.repeat_of.key, "days_apart": repeat_days},
                )
            )

    # -- the path through the workflow --

    def _step(self, st: Story, to: str, at: datetime, reason: str = "") -> None:
        d = st.dispute
        st.events.append(
            (
                "disputes.dispute.status_changed",
                {"status": [d.status, to], "reason": reason, "scheduled_at": at.isoformat()},
            )
        )
        d.status, d.status_changed_at = to, at

    def _mediator(self, st: Story, rule: RoutingRule | None) -> Mediator | None:
        d = st.dispute
        if st.seed == "mil":
            return self.community_mediator.get(d.community_id)
        if st.seed == "fight" and self.police:
            return self.police[0]
        if st.seed == "wages" and self.joint:
            return self.joint[0]
        pool = self.pools.get(rule.pk, []) if rule else []
        if rule and rule.channel == Channel.COMMUNITY:
            own = self.community_mediator.get(d.community_id)
            if own is not None and (self.rng.random() < 0.75 or not pool):
                return own
        return self.rng.choice(pool) if pool else None

    def _cap(self, at: datetime) -> datetime:
        """Keep planned moments in the past."""
        return min(at, self.now - timedelta(minutes=30))

    def _path(self, st: Story) -> None:
        rng = self.rng
        d = st.dispute
        target = st.target
        d.status = Status.RECEIVED
        t = d.reported_at
        if d.threat_state in (ThreatState.CONFIRMED, ThreatState.DISMISSED):
            st.events.append(
                (
                    f"disputes.dispute.threat_{d.threat_state}",
                    {
                        "threat_state": [ThreatState.PENDING, d.threat_state],
                        "threat_words": list(d.threat_words),
                        "note": "经核实属实"
                        if d.threat_state == ThreatState.CONFIRMED
                        else "系气话",
                    },
                )
            )
            d.threat_reviewed_by = self.ground.chief
            d.threat_reviewed_at = t + timedelta(minutes=20)
        if target == Status.RECEIVED:
            return
        if target == Status.WITHDRAWN and rng.random() < 0.3:
            self._withdraw(st, t + timedelta(hours=rng.uniform(1, 30)))
            return
        t = self._cap(t + timedelta(minutes=rng.uniform(10, 90)))
        self._step(st, Status.TRIAGED, t)
        if target == Status.TRIAGED:
            return
        # Routing: the line of the list, its channel and a mediator of its pool.
        rule = _rule_for(self.rules, d.type, d.grade, d.community_id)
        mediator = self._mediator(st, rule)
        if mediator is None:
            return
        hours = rng.uniform(0.2, 20)
        if st.seed == "wages":  # settled the day it came in: routed within the hour
            hours = min(hours, 1.0)
        t = self._cap(t + timedelta(hours=hours))
        d.routing_rule = rule
        d.channel = rule.channel if rule else Channel.COMMUNITY
        if st.seed == "fight":
            d.channel = Channel.POLICE
        d.mediator = mediator
        d.assigned_at = t
        d.deadline = timezone.localdate(t) + timedelta(days=DEADLINE_DAYS.get(d.grade, 15))
        st.events.append(
            (
                "disputes.dispute.assigned",
                {
                    "mode": "auto",
                    "mediator_id": mediator.pk,
                    "mediator": mediator.name,
                    "channel": d.channel,
                    "routing_rule_id": rule.pk if rule else None,
                    "deadline": d.deadline.isoformat(),
                    "scheduled_at": t.isoformat(),
                },
            )
        )
        self._step(st, Status.ASSIGNED, t)
        if target == Status.ASSIGNED:
            if rng.random() < 0.5:
                self._session(st, self.now + timedelta(days=rng.randint(1, 4)), held=False)
            return
        if target == Status.WITHDRAWN:
            self._withdraw(st, self._cap(t + timedelta(days=rng.uniform(0.5, 4))))
            return
        if target == Status.TERMINATED:
            self._step(
                st,
                Status.MEDIATING,
                self._cap(t + timedelta(hours=rng.uniform(2, 48))),
            )
            end = self._cap(d.status_changed_at + timedelta(days=rng.uniform(2, 20)))
            note = rng.choice(TERMINATE_NOTES)
            middle = d.status_changed_at + (end - d.status_changed_at) / 2
            self._session(st, middle, held=True, minutes=MINUTES_FIRST)
            self._finish(st, Status.TERMINATED, Outcome.TERMINATED, end, note)
            return
        # Mediation: how long it takes depends on the grade (and the seeds take one day).
        spans: dict[str, tuple[float, float]] = {
            Grade.TRIVIA: (0.05, 2.0),
            Grade.CIVIL: (1.0, 20.0),
            Grade.MAJOR: (0.3, 9.0),
        }
        span = spans[d.grade]
        if st.seed in ("mil", "fight", "wages"):
            span = (0.1, 0.3) if st.seed == "wages" else (1.0, 3.0)
        begin = self._cap(t + timedelta(hours=rng.uniform(0.5, 24) if st.seed != "wages" else 0.5))
        self._step(st, Status.MEDIATING, begin)
        end = self._cap(begin + timedelta(days=rng.uniform(*span)))
        if target == Status.MEDIATING:
            self._session(
                st,
                begin + timedelta(hours=2),
                held=begin + timedelta(hours=2) < self.now,
                minutes=MINUTES_FIRST,
            )
            if rng.random() < 0.6:
                self._session(st, self.now + timedelta(days=rng.randint(1, 6)), held=False)
            return
        sessions = 1 if d.grade == Grade.TRIVIA or st.seed else rng.choice((1, 1, 2, 2, 3))
        for k in range(sessions - 1):
            at = begin + (end - begin) * (k + 1) / sessions
            self._session(st, at, held=True, minutes=MINUTES_FIRST)
        if target in (Status.FAILED, Status.REFERRED):
            self._session(st, end, held=True, minutes=MINUTES_FAILED)
            self._finish(st, Status.FAILED, Outcome.FAILED, end, "双方分歧较大，调解不成")
            if target == Status.REFERRED:
                self._refer(st, self._cap(end + timedelta(days=rng.uniform(0.5, 3))))
            return
        minutes = {
            "mil": SEED_MIL_MINUTES,
            "fight": SEED_FIGHT_MINUTES,
            "wages": SEED_WAGES_MINUTES,
        }.get(st.seed, MINUTES_AGREED)
        self._session(st, end, held=True, minutes=minutes)
        self._agree(st, end)
        if target == Status.AGREED:
            return
        if target == Status.REOPENED:
            self._close(st, self._cap(end + timedelta(hours=rng.uniform(1, 48))))
            self._reopen(st)
            return
        close = self._cap(end + timedelta(hours=rng.uniform(0.5, 48)))
        if st.seed == "wages":
            close = end + timedelta(hours=1)
        self._close(st, close)
        # Now and then an agreement is not honoured: the case reopens and is settled again.
        if not st.seed and rng.random() < 0.03 and self._reopen(st):
            again = st.dispute.status_changed_at + timedelta(days=rng.uniform(2, 10))
            if again < self.now - timedelta(days=40):
                self._step(st, Status.MEDIATING, again)
                self._session(st, again + timedelta(days=1), held=True, minutes=MINUTES_AGREED)
                self._agree(st, again + timedelta(days=1))
                self._close(st, again + timedelta(days=1, hours=2))

    def _withdraw(self, st: Story, at: datetime) -> None:
        note = self.rng.choice(WITHDRAW_NOTES).format(**st.words)
        if "不愿调解" in note:
            # Mediation is voluntary: the refusal is recorded, and the case ends by withdrawal.
            refuser = st.parties[-1]
            refuser.consent, refuser.consent_note = Consent.DECLINED, "不同意调解"
        self._finish(st, Status.WITHDRAWN, Outcome.WITHDRAWN, self._cap(at), note)

    def _finish(self, st: Story, status: str, outcome: str, at: datetime, reason: str) -> None:
        self._step(st, status, at, reason)
        st.dispute.outcome = outcome
        if status != Status.FAILED:
            st.dispute.closed_at = at

    def _session(
        self, st: Story, at: datetime, *, held: bool | datetime, minutes: str = ""
    ) -> None:
        d = st.dispute
        c = next((x for x in self.ground.communities if x.pk == d.community_id), None)
        place = self.rng.choice(
            (
                "雷锋派出所矛盾纠纷调解室",
                f"{c.name if c else ''}警务室",
                f"{c.name if c else ''}调解室",
            )
        )
        mediators: list[Mediator | None] = [d.mediator] if d.mediator else []
        if st.seed == "mil":
            officer = next(iter(self.police), None)
            mediators = [self.community_mediator.get(d.community_id), officer]
        elif st.seed == "wages" or d.channel == Channel.JOINT:
            mediators = [*mediators, *self.judicial[:1], *self.police[:1]]
        st.sessions.append(
            {
                "at": at,
                "place": "雷锋派出所矛盾纠纷调解室" if st.seed else place,
                "held": bool(held),
                "minutes": minutes.format(**st.words) if held else "",
                "mediators": [m for m in dict.fromkeys(mediators) if m is not None],
            }
        )
        if held:
            st.events.append(
                (
                    "disputes.session.held",
                    {"scheduled_at": at.isoformat(), "place": st.sessions[-1]["place"]},
                )
            )
        else:
            st.events.append(
                (
                    "disputes.session.scheduled",
                    {"scheduled_at": at.isoformat(), "place": st.sessions[-1]["place"]},
                )
            )

    def _agree(self, st: Story, at: datetime) -> None:
        d = st.dispute
        s = st.scenario
        rng = self.rng
        partial = not st.seed and rng.random() < 0.08
        due = timezone.localdate(at) + timedelta(days=rng.choice((0, 3, 7, 15, 30)))
        words = {**st.words, "due": f"{due.year}年{due.month}月{due.day}日"}
        if st.seed == "mil":
            terms, item, amount = SEED_MIL_TERMS, "婆媳约定育儿分工，儿媳带孩子回家居住", Decimal(0)
            due = timezone.localdate(at) + timedelta(days=3)
        elif st.seed == "fight":
            terms, item, amount = SEED_FIGHT_TERMS, "赔礼道歉并赔偿医药费", Decimal(800)
            due = timezone.localdate(at)
        elif st.seed == "wages":
            terms, item, amount = SEED_WAGES_TERMS, "支付18名工人三个月工资", Decimal(120000)
            due = timezone.localdate(at)
        else:
            assert s is not None
            terms, item = s.terms, s.item
            amount = d.amount if d.amount else Decimal(0)
            if partial and amount:
                amount = (amount * Decimal("0.6")).quantize(Decimal(1))
        form = (
            AgreementForm.ORAL
            if d.grade == Grade.TRIVIA and not st.seed and amount == 0
            else AgreementForm.WRITTEN
        )
        st.agreements.append(
            {
                "at": at,
                "form": form,
                "outcome": Outcome.PARTIAL if partial else Outcome.SUCCESS,
                "facts": d.narrative,
                "terms": terms.format(**{**words, "amount": _money(amount) if amount else "0"}),
                "performance": f"于{words['due']}前履行完毕"
                if form == AgreementForm.WRITTEN
                else "",
                "item": item,
                "amount": amount,
                "due": due,
            }
        )
        st.events.append(
            (
                "disputes.agreement.concluded",
                {"form": form, "amount": str(amount), "scheduled_at": at.isoformat()},
            )
        )
        self._step(st, Status.AGREED, at)
        d.outcome = Outcome.PARTIAL if partial else Outcome.SUCCESS

    def _close(self, st: Story, at: datetime) -> None:
        self._step(st, Status.CLOSED, at)
        st.dispute.closed_at = at

    def _reopen(self, st: Story) -> bool:
        """The 30-day visit finds the agreement broken: mark it and reopen; False if too soon."""
        agreement = st.agreements[-1]
        visit = timezone.localdate(agreement["at"]) + timedelta(days=30)
        if visit >= self.today:
            return False
        agreement["broken"] = True
        at = _local(visit, 10)
        self._step(st, Status.REOPENED, at, FOLLOWUP_BROKEN.format(**st.words))
        st.dispute.closed_at = None
        st.dispute.outcome = ""
        return True

    def _refer(self, st: Story, at: datetime) -> None:
        d = st.dispute
        code = d.type.code[:2]
        target, receiver = REFERRALS.get(code, REFERRALS[""])
        if code == "07" and self.rng.random() < 0.5:
            target, receiver = "arbitration", "长沙市劳动人事争议仲裁委员会"
        old = (self.now - at).days > 30
        st.referral = {
            "target": target,
            "receiver": receiver,
            "at": at,
            "reason": "调解不成，当事人同意通过法定途径解决，移送处理。",
            "outcome": (
                self.rng.choice((ReferralOutcome.ACCEPTED, ReferralOutcome.RESOLVED))
                if old
                else ReferralOutcome.PENDING
            ),
        }
        st.events.append(("disputes.referral.created", {"target": target, "receiver": receiver}))
        self._finish(st, Status.REFERRED, Outcome.FAILED, at, f"移送{receiver}")


# --- writing ---


def _numbers(station_id: int, prefix: str, years: list[int]) -> list[str]:
    """Take one case number per entry of `years` (in order), a block per year.

    The first number of each block comes from `case_number_next`, which locks the station's
    counter; the counter then moves to the block's end in the same transaction, so the next
    intake continues the sequence exactly as if each number had been taken one by one.
    """
    out: list[str] = []
    counts = Counter(years)
    first: dict[int, int] = {}
    for year in sorted(counts):
        number = case_number_next(station_id=station_id, prefix=prefix, year=year)
        first[year] = int(number.rsplit("-", 1)[1])
        CaseCounter.objects.filter(station_id=station_id, prefix=prefix, year=year).update(
            last=first[year] + counts[year] - 1
        )
    taken: Counter[int] = Counter()
    for year in years:
        out.append(f"{prefix}-{year}-{first[year] + taken[year]:06d}")
        taken[year] += 1
    return out


def _write(stories: list[Story], ground: Ground, rng: random.Random) -> dict[str, int]:
    """Write the planned cases and everything that hangs on them; return the counts."""
    station = ground.station
    counts: Counter[str] = Counter()
    # Case numbers in the order the cases came in, so later intakes continue the sequence.
    years = [timezone.localtime(st.dispute.reported_at).year for st in stories]
    for st, number in zip(stories, _numbers(station.pk, CASE_PREFIX, years), strict=True):
        d = st.dispute
        d.case_number = number
        d.created_by = ground.officers.get(d.community_id)
        d.updated_by = d.created_by
        d.search_text = search_document(
            d.case_number, d.narrative, d.address, d.type.name, *(p.name for p in st.parties)
        )
    Dispute.objects.bulk_create([st.dispute for st in stories], batch_size=500)
    counts["disputes"] = len(stories)
    # Created and changed when it happened, not when the demo was loaded.
    Dispute.objects.filter(station=station, intake_key__startswith=KEY_PREFIX).update(
        created_at=F("reported_at"), updated_at=F("status_changed_at")
    )
    parties: list[Party] = []
    for st in stories:
        d = st.dispute
        for p in st.parties:
            row = Party(
                dispute=d,
                station=station,
                area_id=d.area_id,
                kind=p.kind,
                role=p.role,
                name=p.name,
                phone=p.phone,
                id_number=p.id_number,
                address=p.address,
                phone_bidx=blind_index("party_phone", p.phone) if p.phone else "",
                id_number_bidx=blind_index("party_id", p.id_number) if p.id_number else "",
                name_address_bidx=name_address_key(p.name, p.address),
                consent=p.consent,
                consent_at=d.reported_at,
                consent_note=p.consent_note,
                created_by=d.created_by,
                updated_by=d.created_by,
            )
            st.party_rows.append(row)
            parties.append(row)
    Party.objects.bulk_create(parties, batch_size=1000)
    counts["parties"] = len(parties)
    search_index(
        label="disputes.dispute",
        rows=[(st.dispute.pk, st.dispute.search_text) for st in stories],
        fresh=True,
    )
    links = []
    for st in stories:
        if st.repeat_of is None:
            continue
        other = st.repeat_of.dispute
        days = (
            timezone.localdate(st.dispute.occurred_at) - timezone.localdate(other.occurred_at)
        ).days
        links.append(
            DisputeLink(
                dispute=st.dispute,
                other=other,
                station=station,
                matched_on=["id_number", "phone", "name_address"],
                days_apart=days,
                reason=(
                    f"与{other.case_number}的当事人相同（身份证号码、联系电话、姓名和住址一致），"
                    f"两案相隔{days}天。"
                ),
            )
        )
    DisputeLink.objects.bulk_create(links)
    _write_sessions(stories, station)
    counts.update(_write_agreements(stories, ground, rng))
    _write_referrals(stories, station)
    _write_extensions(stories, ground)
    _write_visits(stories, ground, rng)
    _audit(stories)
    return dict(counts)


def _write_sessions(stories: list[Story], station: Area) -> None:
    sessions: list[MediationSession] = []
    owners: list[tuple[Story, dict[str, Any], MediationSession]] = []
    for st in stories:
        for s in st.sessions:
            row = MediationSession(
                dispute=st.dispute,
                station=station,
                scheduled_at=s["at"],
                place=s["place"],
                state=SessionState.HELD if s["held"] else SessionState.SCHEDULED,
                minutes=s["minutes"],
                held_at=s["at"] if s["held"] else None,
                created_by=st.dispute.created_by,
                updated_by=st.dispute.created_by,
            )
            sessions.append(row)
            owners.append((st, s, row))
    MediationSession.objects.bulk_create(sessions, batch_size=1000)
    through = MediationSession.mediators.through
    through.objects.bulk_create(
        [
            through(mediationsession_id=row.pk, mediator_id=m.pk)
            for _st, s, row in owners
            for m in s["mediators"]
        ],
        batch_size=2000,
    )
    Attendance.objects.bulk_create(
        [
            Attendance(session=row, party=p, attended=True if s["held"] else None)
            for st, s, row in owners
            for p in st.party_rows
        ],
        batch_size=2000,
    )


def _write_agreements(stories: list[Story], ground: Ground, rng: random.Random) -> dict[str, int]:
    station = ground.station
    planned = sorted(
        ((a["at"], st, a) for st in stories for a in st.agreements), key=lambda x: x[0]
    )
    agreements: list[Agreement] = []
    numbers = _numbers(
        station.pk, AGREEMENT_PREFIX, [timezone.localtime(at).year for at, _st, _a in planned]
    )
    for (at, st, a), number in zip(planned, numbers, strict=True):
        agreements.append(
            Agreement(
                dispute=st.dispute,
                station=station,
                number=number,
                form=a["form"],
                outcome=a["outcome"],
                facts=a["facts"],
                terms=a["terms"],
                performance=a["performance"],
                concluded_at=at,
                created_by=st.dispute.created_by,
                updated_by=st.dispute.created_by,
            )
        )
    Agreement.objects.bulk_create(agreements, batch_size=500)
    items: list[AgreementItem] = []
    signatures: list[AgreementSignature] = []
    for (at, st, a), agreement in zip(planned, agreements, strict=True):
        a["row"] = agreement
        obligor = st.party_rows[-1]
        obligee = st.party_rows[0]
        a["item_row"] = AgreementItem(
            agreement=agreement,
            obligor=obligor,
            obligee=obligee,
            description=a["item"],
            amount=a["amount"],
            due_date=a["due"],
        )
        items.append(a["item_row"])
        for p in st.party_rows:
            signatures.append(
                AgreementSignature(
                    agreement=agreement,
                    party=p,
                    state=Signature.SIGNED,
                    at=at,
                    note="口头同意" if a["form"] == AgreementForm.ORAL else "",
                )
            )
    AgreementItem.objects.bulk_create(items, batch_size=1000)
    AgreementSignature.objects.bulk_create(signatures, batch_size=2000)
    # Follow-up visits, scheduled as `followups.followups_schedule` does, recorded when due.
    today = timezone.localdate()
    followups: list[FollowUp] = []
    for at, st, a in planned:
        start = timezone.localdate(at)
        plan: dict[date, tuple[str, AgreementItem | None]] = {
            start + timedelta(days=7): (FollowUpKind.DAYS_7, None),
            start + timedelta(days=30): (FollowUpKind.DAYS_30, None),
        }
        due = a["due"]
        if due not in plan:
            plan[due] = (FollowUpKind.ITEM_DUE, a["item_row"])
        else:
            plan[due] = (plan[due][0], a["item_row"])
        visitor = ground.officers.get(st.dispute.community_id)
        for day in sorted(plan):
            kind, item = plan[day]
            f = FollowUp(
                dispute=st.dispute,
                station=station,
                agreement=a["row"],
                item=item,
                kind=kind,
                due_date=day,
                created_by=st.dispute.created_by,
                updated_by=st.dispute.created_by,
            )
            broken = a.get("broken") and kind == FollowUpKind.DAYS_30
            if day < today or (day == today and rng.random() < 0.5):
                f.state = FollowUpState.DONE
                f.visited_at = _local(day, rng.uniform(9, 17))
                f.visited_by = visitor
                if broken:
                    f.honoured, f.satisfaction, f.reopened = False, 2, True
                    f.comment = FOLLOWUP_BROKEN.format(**st.words)
                else:
                    f.honoured = True
                    f.satisfaction = rng.choices((5, 4, 3), weights=(64, 28, 8))[0]
                    if st.seed:
                        f.satisfaction = 5
                    f.comment = rng.choice(FOLLOWUP_HONOURED)
                st.events.append(
                    (
                        "disputes.followup.recorded",
                        {
                            "due_date": day.isoformat(),
                            "honoured": f.honoured,
                            "satisfaction": f.satisfaction,
                            "reopened": f.reopened,
                        },
                    )
                )
            followups.append(f)
            if broken:
                break  # the case reopened: later visits of this agreement are moot
    FollowUp.objects.bulk_create(followups, batch_size=1000)
    return {"agreements": len(agreements), "followups": len(followups)}


def _write_referrals(stories: list[Story], station: Area) -> None:
    rows = []
    for st in stories:
        r = st.referral
        if r is None:
            continue
        done = r["outcome"] != ReferralOutcome.PENDING
        rows.append(
            Referral(
                dispute=st.dispute,
                station=station,
                target=r["target"],
                receiver=r["receiver"],
                reason=r["reason"],
                referred_at=r["at"],
                outcome=r["outcome"],
                outcome_note="已受理，依法处理中"
                if r["outcome"] == "accepted"
                else ("已依法处理完毕" if done else ""),
                outcome_at=r["at"] + timedelta(days=12) if done else None,
                created_by=st.dispute.created_by,
                updated_by=st.dispute.created_by,
            )
        )
    Referral.objects.bulk_create(rows)


def _write_extensions(stories: list[Story], ground: Ground) -> None:
    rows = []
    for st in stories:
        e = st.extension
        if e is None:
            continue
        mediator = st.dispute.mediator
        approved = e["state"] == "approved"
        rows.append(
            Extension(
                dispute=st.dispute,
                station=ground.station,
                days=e["days"],
                reason=e["reason"],
                state=e["state"],
                requested_by=mediator.user if mediator and mediator.user else st.dispute.created_by,
                decided_by=ground.chief if approved else None,
                decided_at=st.dispute.closed_at if approved else None,
                decision_note="同意延期" if approved else "",
            )
        )
    Extension.objects.bulk_create(rows)


def _write_visits(stories: list[Story], ground: Ground, rng: random.Random) -> None:
    """The screening log: each case found by screening has its visit; others found nothing."""
    visits = []
    for st in stories:
        d = st.dispute
        if d.source != Source.SCREENING:
            continue
        visitor = ground.officers.get(d.community_id)
        if visitor is None:
            continue
        visits.append(
            ScreeningVisit(
                station=ground.station,
                community_id=d.community_id,
                area_id=d.area_id,
                visited_at=d.reported_at - timedelta(minutes=rng.randint(20, 120)),
                visitor=visitor,
                visited=st.parties[0].name,
                address=d.address,
                lat=d.lat,
                lng=d.lng,
                findings=d.narrative[:200],
                result=VisitResult.DISPUTE,
                dispute=d,
                created_by=visitor,
                updated_by=visitor,
            )
        )
    today = timezone.localdate()
    findings = {
        VisitResult.NOTHING: (
            "走访住户，家庭和睦，邻里关系正常。",
            "走访商户，经营正常，无矛盾纠纷。",
        ),
        VisitResult.RESOLVED: ("两户因晾晒衣物滴水发生口角，现场劝解后和好。",),
        VisitResult.REVISIT: ("租户与房东对水电费结算有不同意见，约定下周再访。",),
    }
    for _i in range(160):
        grid = rng.choice(ground.grids)
        visitor = ground.officers.get(grid.parent_id or 0)
        if visitor is None:
            continue
        result = rng.choices(list(findings), weights=(80, 12, 8))[0]
        visits.append(
            ScreeningVisit(
                station=ground.station,
                community_id=grid.parent_id or 0,
                area=grid,
                visited_at=_local(today - timedelta(days=rng.randint(1, 90)), rng.uniform(9, 18)),
                visitor=visitor,
                visited=f"{names.person(rng)}家",
                address=grid.name,
                lat=grid.centroid_lat,
                lng=grid.centroid_lng,
                findings=rng.choice(findings[result]),
                result=result,
                created_by=visitor,
                updated_by=visitor,
            )
        )
    ScreeningVisit.objects.bulk_create(visits, batch_size=1000)


def _payload_of(payload: dict[int, dict[str, Any]], d: Dispute) -> dict[str, Any]:
    return payload[d.pk]


def _audit(stories: list[Story]) -> None:
    """One entry per step, the k-th steps of all cases together, so each timeline is in order."""
    steps: dict[tuple[int, str], list[tuple[Dispute, dict[str, Any]]]] = defaultdict(list)
    for st in stories:
        for k, (action, changes) in enumerate(st.events):
            steps[(k, action)].append((st.dispute, changes))
    for (_k, action), rows in sorted(steps.items(), key=lambda kv: kv[0][0]):
        payload = {d.pk: changes for d, changes in rows}
        audit_records_bulk(
            actor=ACTOR,
            action=action,
            objs=[d for d, _c in rows],
            changes=partial(_payload_of, payload),
        )


def load_disputes(*, station: Area | None = None, seed: int = SEED) -> dict[str, int]:
    """Load the registry, routing list and two years of cases where missing; return counts."""
    station = station or Area.objects.filter(code=LEIFENG.code).first()
    if station is None:
        return {}
    ground = _ground(station)
    rng = random.Random(f"{seed}-registry")
    counts: Counter[str] = Counter()
    people = _People(rng, {u.full_name for u in ground.staff.values()})
    mediators = _load_registry(ground, _mediator_plans(rng, ground, people), rng, counts)
    if Dispute.objects.filter(station=station, intake_key__startswith=KEY_PREFIX).exists():
        return dict(counts)
    stories = Planner(ground, mediators, seed).plan()
    counts.update(_write(stories, ground, rng))
    # Overdue running cases get their cards (and the chief a notification), as every night.
    supervision_sweep(station_id=station.pk)
    _rebuild_rollups(station)
    return dict(counts)


def _rebuild_rollups(station: Area) -> None:
    try:
        from fengqiao.disputes.rollups import rollup_rebuild
    except ImportError:  # the report's rollups are not there: nothing to rebuild
        return
    rollup_rebuild(station_ids=[station.pk])
