"""Demo data: a believable street of communities, grids, buildings, households and residents.

Everything is generated (Faker's zh_CN word lists, a fixed seed); no real person is in it.
Bulk loads go through Context.bulk_insert in one transaction, so a cancelled or failed run
leaves the database as it was.
"""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from shequ_desktop.core import phone, pinyin
from shequ_desktop.core.context import Context
from shequ_desktop.core.errors import DomainError
from shequ_desktop.core.idnumber import check_digit
from shequ_desktop.core.progress import Progress, report
from shequ_desktop.core.statuses import (
    DECEASED,
    MOVED_OUT,
    ON_RECORD,
    OWNER_OCCUPIED,
    RENTED,
    VACANT,
)
from shequ_desktop.core.workdays import add_workdays
from shequ_desktop.demo.community import community_work
from shequ_desktop.demo.volunteers import volunteer_work

LOCAL_AREAS = ("110105", "110108", "110106")
OTHER_AREAS = ("130102", "370102", "410105", "510104", "320102", "420102", "440106", "330106",
               "230102", "610102", "340102", "360102", "430102", "500101", "150102", "450102")
COMPOUND_WORDS = ("阳光", "幸福", "和平", "建设", "锦绣", "翠苑", "金桥", "春晖", "丽水", "明珠",
                  "新华", "文化", "康乐", "华府", "书香", "紫荆", "东方", "向阳", "花园", "育才",
                  "朝阳", "光明", "长青", "嘉园", "融泽", "龙湖", "枫林", "桂苑", "安居", "泰和")
COMPOUND_KINDS = ("花园", "小区", "家园", "苑", "新村", "里", "公寓", "雅居", "西里", "北区")
COMMUNITY_WORDS = ("团结湖", "安华里", "和平街", "光华里", "南湖", "青年路", "双井", "劲松",
                   "八里庄", "六里屯", "甜水园", "水碓子", "延静里", "红庙", "白家庄", "小关",
                   "芍药居", "安贞", "惠新", "樱花园", "东湖", "望京", "花家地", "南磨房",
                   "百子湾", "垂杨柳", "广渠路", "九龙山", "大望路", "高碑店")
OCCUPATIONS = ("工人", "教师", "医生", "护士", "公务员", "个体经营", "职员", "销售", "司机",
               "工程师", "厨师", "保安", "快递员", "会计", "自由职业", "退休", "无业")
OTHER_AREAS_NAMES = ("朝阳区望京街道", "海淀区学院路街道", "河北省石家庄市", "山东省济南市",
                     "河南省郑州市", "四川省成都市", "广东省广州市", "上海市浦东新区")
WORKPLACES = ("区人民医院", "第一中学", "华联超市", "市政公司", "街道办事处", "建设银行",
              "城建集团", "顺丰速运", "物业公司", "区图书馆", "科技有限公司", "餐饮店")
VISIT_METHODS = ("入户", "电话", "视频", "其他")
VISITORS = ("张晓燕", "李建华", "王丽", "刘洋", "陈静", "赵磊")    # the grid workers
FINDINGS = ("身体状况良好，生活能自理", "家中整洁，无异常", "反映楼道灯不亮，已报物业",
            "血压偏高，已提醒按时服药", "子女每周探望", "生活困难，已告知救助政策", "无异常")
INCIDENTS = (("矛盾纠纷", "邻里因噪音发生争执"), ("矛盾纠纷", "楼上漏水引发邻里纠纷"),
             ("安全隐患", "楼道堆放杂物堵塞消防通道"), ("安全隐患", "电动车在楼道内充电"),
             ("环境卫生", "垃圾桶满溢未及时清运"), ("环境卫生", "绿化带内有建筑垃圾"),
             ("民生诉求", "老人反映助餐点排队时间长"), ("民生诉求", "单元门禁损坏"),
             ("其他", "路灯不亮"))
# (tag name, share of eligible residents); eligibility is decided in _tags_for.
TAG_SHARES = {"残疾人": 0.025, "低保": 0.015, "特困": 0.002, "严重精神障碍": 0.004,
              "社区矫正": 0.0005, "刑满释放": 0.001, "退役军人": 0.04, "优抚对象": 0.003,
              "留守儿童": 0.01}

RESIDENT_COLUMNS = [
    "id", "household_id", "name", "id_type", "id_number", "gender", "birth_date", "ethnicity",
    "relation_to_head", "residence_type", "separated", "phone", "political_status", "education",
    "marital_status", "occupation", "workplace", "health", "status", "moved_in_at",
    "moved_out_at", "moved_out_to", "death_date", "name_initials"]


@dataclass
class Rows:
    """Everything generated, as rows ready for bulk insert."""
    tag_ids: dict[str, int]
    units: list[tuple] = field(default_factory=list)
    houses: list[tuple] = field(default_factory=list)
    households: list[tuple] = field(default_factory=list)
    people: list[tuple] = field(default_factory=list)
    tags: list[tuple] = field(default_factory=list)
    events: list[tuple] = field(default_factory=list)      # resident_events (history)
    visits: list[tuple] = field(default_factory=list)
    incidents: list[tuple] = field(default_factory=list)   # events (事件) and their log
    incident_log: list[tuple] = field(default_factory=list)
    communities: list[tuple] = field(default_factory=list)  # (unit id, name, first, end person)
    teams: list[tuple] = field(default_factory=list)         # volunteers (志愿者) and their work
    volunteers: list[tuple] = field(default_factory=list)
    activities: list[tuple] = field(default_factory=list)
    service: list[tuple] = field(default_factory=list)
    adjustments: list[tuple] = field(default_factory=list)
    redemptions: list[tuple] = field(default_factory=list)

    intervals: dict[str, int] = field(default_factory=dict)

    def unit(self, parent, level, name, code=None, floors=None) -> int:
        self.units.append((len(self.units) + 1, parent, level, name, code, len(self.units),
                           floors))
        return len(self.units)


@dataclass
class Person:
    gender: str
    birth: dt.date
    relation: str
    surname: str
    status: str = ON_RECORD
    extra: dict = field(default_factory=dict)


def _valid_prefix(prefix: str) -> bool:
    """A mobile prefix whose numbers pass phone.check (every block of its numbering range)."""
    for tail in ("00000000", "49999999", "99999999"):
        try:
            phone.check(prefix + tail)
        except ValueError:
            return False
    return True


class _Generator:
    def __init__(self, seed: int, today: dt.date):
        from faker import Faker

        self.rng = random.Random(seed)
        self.today = today
        fake = Faker("zh_CN")
        person = fake.provider("faker.providers.person")
        self.surnames = list(person.last_names)
        self.surname_weights = list(person.last_names.values())
        self.male_chars = list(person.first_names_male)
        self.female_chars = list(person.first_names_female)
        # Faker's prefix list changes between releases (40.61 added 149, which no carrier
        # uses): keep only the prefixes our own validator accepts, so the demo never makes a
        # number the form would refuse, whatever Faker's version.
        self.phone_prefixes = [p for p in map(str, fake.provider(
            "faker.providers.phone_number").phonenumber_prefixes) if _valid_prefix(p)]
        self.used_ids: set[str] = set()

    # --- people -------------------------------------------------------------------------
    def surname(self) -> str:
        return self.rng.choices(self.surnames, self.surname_weights)[0]

    def given(self, gender: str) -> str:
        """Faker's given names are one or two characters; join two one-character ones at times."""
        names = self.male_chars if gender == "1" else self.female_chars
        given = self.rng.choice(names)
        if len(given) == 1 and self.rng.random() < 0.5:
            second = self.rng.choice(names)
            given += second if len(second) == 1 else ""
        return given

    def birth(self, age_from: int, age_to: int) -> dt.date:
        age_days = self.rng.randint(age_from * 365 + 1, age_to * 365 + 364)
        return self.today - dt.timedelta(days=age_days)

    def id_number(self, birth: dt.date, gender: str, local: bool) -> str:
        area = self.rng.choice(LOCAL_AREAS if local else OTHER_AREAS)
        while True:
            seq = self.rng.randrange(0, 500) * 2 + (1 if gender == "1" else 0)
            body = f"{area}{birth:%Y%m%d}{seq:03d}"
            number = body + check_digit(body)
            if number not in self.used_ids:
                self.used_ids.add(number)
                return number

    def phone(self) -> str:
        return self.rng.choice(self.phone_prefixes) + f"{self.rng.randrange(10**8):08d}"

    def family(self) -> list[Person]:
        """One household's members, head first, with GB/T 4761 relations to the head."""
        r = self.rng.random()
        surname = self.surname()
        male = "1"
        if r < 0.09:                                   # elderly living alone
            return [Person(self.rng.choice("12"), self.birth(65, 95), "02", surname)]
        if r < 0.17:                                   # single adult
            return [Person(self.rng.choice("12"), self.birth(22, 55), "02", surname)]
        old = r < 0.31                                 # elderly couple
        head_age = (62, 88) if old else (25, 58)
        head = Person(male, self.birth(*head_age), "02", surname)
        spouse_age = max(20, self.today.year - head.birth.year + self.rng.randint(-5, 2))
        family = [head, Person("2", self.birth(spouse_age, spouse_age), "10", self.surname())]
        if old:
            return family
        if r < 0.42:                                   # couple without children
            return family
        head_age_years = _age(head.birth, self.today)
        children = 1 if r < 0.75 else 2
        for i in range(children):
            g = self.rng.choice("12")
            top = max(0, min(head_age_years - 22, 30))
            age = self.rng.randint(0, top) if top > 0 else 0
            family.append(Person(g, self.birth(age, age), "20" if g == "1" else "30", surname))
        if r > 0.85:                                   # three generations: a grandparent
            age = min(98, head_age_years + self.rng.randint(24, 32))
            g = self.rng.choice("12")
            family.append(Person(g, self.birth(age, age), "51" if g == "1" else "52",
                                 surname if g == "1" else self.surname()))
        return family

    def history(self, family: list[Person]) -> list[Person]:
        """Former members kept on record: a child who moved out, a grandparent who died."""
        head = family[0]
        gone = []
        head_age = _age(head.birth, self.today)
        if len(family) >= 2 and head_age >= 42 and self.rng.random() < 0.05:
            g = self.rng.choice("12")
            age = self.rng.randint(19, min(35, head_age - 22))
            p = Person(g, self.birth(age, age), "20" if g == "1" else "30", head.surname, MOVED_OUT)
            p.extra = {"moved_out_at": self.today - dt.timedelta(days=self.rng.randint(10, 2000)),
                       "moved_out_to": self.rng.choice(OTHER_AREAS_NAMES)}
            gone.append(p)
        if len(family) >= 2 and self.rng.random() < 0.02:
            g = self.rng.choice("12")
            p = Person(g, self.birth(80, 99), "51" if g == "1" else "52", head.surname, DECEASED)
            p.extra = {"death_date": self.today - dt.timedelta(days=self.rng.randint(10, 2000))}
            gone.append(p)
        return gone

    def visits(self, out: "Rows", resident_id: int, interval: int, since: dt.date) -> None:
        """A focus-group member's visits: most are on schedule, some overdue, a few never."""
        if self.rng.random() < 0.06:
            return
        last = self.today - dt.timedelta(days=self.rng.randint(0, int(interval * 1.15)))
        day = max(last, since)
        for _ in range(self.rng.randint(1, 3)):
            if day < since:
                break
            out.visits.append((resident_id, day.isoformat(),
                               self.rng.choices(VISIT_METHODS, (70, 20, 5, 5))[0],
                               self.rng.choice(VISITORS), self.rng.choice(FINDINGS)))
            day -= dt.timedelta(days=interval)

    def fill(self, p: Person, local: bool) -> dict:
        age = _age(p.birth, self.today)
        rng = self.rng
        adult = age >= 18
        political = "13"
        if adult and rng.random() < 0.09:
            political = "01"
        elif 14 <= age <= 28 and rng.random() < 0.3:
            political = "03"
        if age < 6:
            education = None
        elif age < 12:
            education = "80"
        elif age < 15:
            education = "70"
        elif age < 18:
            education = "60"
        else:
            education = rng.choices(("20", "30", "60", "70", "80", "10"),
                                    (25, 20, 25, 20, 8, 2) if age < 60 else (6, 8, 20, 35, 30, 1))[0]
        married = p.relation in ("10",) or (p.relation == "02" and rng.random() < 0.8 and age > 24)
        marital = ("20" if married else "10") if age >= 20 else None
        if age > 70 and p.relation in ("51", "52", "02") and rng.random() < 0.4:
            marital = "30"
        health = "1"
        if age > 60:
            health = rng.choices(("1", "2", "31", "32", "33"), (40, 30, 15, 10, 5))[0]
        return {
            "ethnicity": "01" if rng.random() < 0.92 else f"{rng.randint(2, 56):02d}",
            "political_status": political if age >= 14 else None,
            "education": education,
            "marital_status": marital,
            "occupation": rng.choice(OCCUPATIONS) if adult and age < 60 else ("退休" if age >= 60 else None),
            "workplace": rng.choice(WORKPLACES) if adult and age < 60 and rng.random() < 0.6 else None,
            "health": health,
            "phone": self.phone() if adult and rng.random() < 0.92 else None,
            "residence_type": "1" if local else "2",
            "separated": 1 if local and rng.random() < 0.05 else 0,
        }


def _tags_for(rng: random.Random, person: Person, age: int, alone: bool,
              elderly_couple: bool) -> list[str]:
    tags = []
    if age >= 60 and alone:
        tags.append("独居老人")
    if age >= 60 and elderly_couple:
        tags.append("空巢老人")
    if age >= 80:
        tags.append("高龄老人")
    for name, share in TAG_SHARES.items():
        if name == "留守儿童" and age >= 16:
            continue
        if name in ("退役军人", "刑满释放", "社区矫正") and (age < 20 or person.gender != "1"):
            continue
        if rng.random() < share:
            tags.append(name)
    return tags


def generate(conn, residents: int = 8000, seed: int = 1, progress: Progress = None,
             today: dt.date | None = None, user: str = "演示数据") -> dict:
    """Fill an empty database with a demo street of about `residents` people. Returns counts."""
    if residents < 1:
        raise DomainError("人数至少为 1")
    ctx = Context(conn, user)
    if conn.execute("SELECT count(*) FROM grid_units").fetchone()[0]:
        raise DomainError("数据库中已有数据；演示数据只能载入空数据库")
    gen = _Generator(seed, today or dt.date.today())
    out = Rows(dict(conn.execute("SELECT name, id FROM tags")))
    out.intervals = dict(conn.execute("SELECT name, visit_interval_days FROM tags"))
    street = out.unit(None, "street", "幸福街道", "110105001")
    n_comm = max(1, round(residents / 10000))
    made = 0
    for c in range(n_comm):
        comm_quota = residents // n_comm + (1 if c < residents % n_comm else 0)
        comm = out.unit(street, "community", f"{COMMUNITY_WORDS[c % len(COMMUNITY_WORDS)]}社区"
                        + (f"{c // len(COMMUNITY_WORDS) + 1}" if c >= len(COMMUNITY_WORDS) else ""),
                        f"110105001{c + 1:03d}")
        first_person = len(out.people)
        n_grid = max(1, round(comm_quota / 800))
        for g in range(n_grid):
            quota = comm_quota // n_grid + (1 if g < comm_quota % n_grid else 0)
            grid_id = out.unit(comm, "grid", f"第{g + 1}网格", f"110105001{c + 1:03d}{g + 1:02d}")
            made += _fill_grid(gen, out, grid_id, quota)
            _incidents(gen, out, grid_id, quota, dict(conn.execute(
                "SELECT name, id FROM event_categories")))
            report(progress, made, residents)
        out.communities.append((comm, out.units[comm - 1][3], first_person, len(out.people)))
    volunteer_work(out, seed, gen.today, gen.used_ids)

    with ctx.transaction():
        ctx.bulk_insert("grid_units", ["id", "parent_id", "level", "name", "code", "sort",
                                       "floors"], out.units)
        ctx.bulk_insert("houses", ["id", "unit_id", "room_no", "floor", "area", "usage",
                                   "owner_name"], out.houses)
        ctx.bulk_insert("households", ["id", "house_id", "household_no", "kind",
                                       "head_resident_id", "phone", "status"], out.households)
        for start in range(0, len(out.people), 20000):
            ctx.bulk_insert("residents", RESIDENT_COLUMNS, out.people[start:start + 20000])
            report(progress, made, residents)
        ctx.bulk_insert("resident_tags", ["resident_id", "tag_id", "since"], out.tags)
        ctx.bulk_insert("resident_events", ["resident_id", "kind", "date", "household_id",
                                            "from_household_id", "note"], out.events)
        ctx.bulk_insert("visits", ["resident_id", "visited_on", "method", "visitor",
                                   "findings"], out.visits)
        ctx.bulk_insert("events", ["id", "category_id", "unit_id", "description", "found_at",
                                   "reporter", "status", "accepted_at", "deadline_days",
                                   "deadline", "resolution", "closed_at"], out.incidents)
        ctx.bulk_insert("event_log", ["event_id", "at", "user", "action", "from_status",
                                      "to_status", "note"], out.incident_log)
        ctx.bulk_insert("volunteer_teams", ["id", "name", "unit_id", "leader_id",
                                            "founded_on"], out.teams)
        ctx.bulk_insert("volunteers", ["id", "resident_id", "name", "id_number", "gender",
                                       "birth_date", "phone", "skills", "team_id", "joined_on",
                                       "left_on", "status"], out.volunteers)
        ctx.bulk_insert("activities", ["id", "title", "category", "organiser", "place",
                                       "starts_at", "ends_at", "unit_id"], out.activities)
        ctx.bulk_insert("service_records", ["activity_id", "volunteer_id", "hours", "points"],
                        out.service)
        ctx.bulk_insert("point_adjustments", ["volunteer_id", "points", "reason", "made_on",
                                              "made_by"], out.adjustments)
        ctx.bulk_insert("point_redemptions", ["volunteer_id", "points", "item", "redeemed_on",
                                              "made_by"], out.redemptions)
    more = community_work(ctx, seed, gen.today)
    return {"grid_units": len(out.units), "houses": len(out.houses),
            "households": len(out.households), "residents": len(out.people),
            "resident_tags": len(out.tags), "visits": len(out.visits),
            "events": len(out.incidents) + more["events"], "volunteer_teams": len(out.teams),
            "volunteers": len(out.volunteers), "activities": len(out.activities),
            "service_records": len(out.service)}


def _incidents(gen: _Generator, out: Rows, grid_id: int, residents: int,
               categories: dict[str, int]) -> None:
    """About one event per 250 residents over the last 90 days, at every stage of the loop."""

    rng = gen.rng
    flow = ("上报", "受理", "处置中", "办结", "归档")
    for _ in range(max(1, residents // 250)):
        event_id = len(out.incidents) + 1
        category, text = rng.choice(INCIDENTS)
        found = gen.today - dt.timedelta(days=rng.randint(0, 90))
        stage = rng.choices(range(5), (10, 15, 20, 35, 20))[0]
        if (gen.today - found).days < 3:
            stage = min(stage, 1)
        accepted = found + dt.timedelta(days=1) if stage >= 1 else None
        days = rng.choice((3, 5, 10)) if accepted else None
        deadline = add_workdays(accepted, days) if accepted else None
        closed = None
        if stage >= 3:
            closed = min(gen.today, accepted + dt.timedelta(days=rng.randint(1, days + 4)))
        visitor = rng.choice(VISITORS)
        out.incidents.append((
            event_id, categories[category], grid_id, text, found.isoformat(), visitor,
            flow[stage], accepted and accepted.isoformat(), days,
            deadline and deadline.isoformat(), "已协调处理完毕" if closed else None,
            closed and closed.isoformat()))
        times = [found, accepted, accepted, closed, closed]
        for step in range(stage + 1):
            out.incident_log.append((
                event_id, f"{times[step].isoformat()} 09:00:00", visitor,
                ("上报", "受理", "处置", "办结", "归档")[step],
                flow[step - 1] if step else None, flow[step], None))


def _fill_grid(gen: _Generator, out: Rows, grid_id: int, quota: int) -> int:
    rng = gen.rng
    made = 0
    compound = None
    compound_names: set[str] = set()
    buildings_in_compound = 0
    building_no = 0
    while made < quota:
        if compound is None or buildings_in_compound >= rng.randint(4, 8):
            name = rng.choice(COMPOUND_WORDS) + rng.choice(COMPOUND_KINDS)
            while name in compound_names:
                name += "二期" if not name.endswith("期") else ""
                name = name if name not in compound_names else name[:-2] + f"{len(compound_names)}期"
            compound_names.add(name)
            compound = out.unit(grid_id, "compound", name)
            buildings_in_compound = 0
        buildings_in_compound += 1
        building_no += 1
        high = rng.random() < 0.3
        floors = rng.choice((11, 18, 24)) if high else rng.choice((5, 6, 6, 7))
        building = out.unit(compound, "building", f"{building_no}号楼", None, floors)
        for u in range(1, (2 if high else rng.choice((2, 3, 4))) + 1):
            unit_id = out.unit(building, "unit", f"{u}单元")
            for floor in range(1, floors + 1):
                for k in range(1, (4 if high else 2) + 1):
                    if made >= quota:
                        return made
                    made += _house(gen, out, unit_id, floor, k, quota - made)
    return made


def _house(gen: _Generator, out: Rows, unit_id: int, floor: int, k: int, room_left: int) -> int:
    """One room; returns how many residents it got."""
    rng = gen.rng
    house_id = len(out.houses) + 1
    r = rng.random()
    usage = VACANT if r < 0.08 else RENTED if r < 0.23 else "商用" if (r < 0.33 and floor == 1) \
        else OWNER_OCCUPIED
    family = gen.family() if usage in (OWNER_OCCUPIED, RENTED) else []
    family = family[:room_left]
    # the owner's name (last column) is the head's, filled in below for owner-occupied rooms
    out.houses.append([house_id, unit_id, f"{floor}{k:02d}", floor,
                       round(rng.uniform(45, 140), 1), usage, None])
    if not family:
        out.houses[-1] = tuple(out.houses[-1])
        return 0
    local = usage == OWNER_OCCUPIED or rng.random() < 0.2
    hh_id = len(out.households) + 1
    head_id = len(out.people) + 1
    alone = len(family) == 1
    elderly_couple = len(family) == 2 and all(
        _age(p.birth, gen.today) >= 60 for p in family)
    for p in family + gen.history(family)[:room_left - len(family)]:
        rid = len(out.people) + 1
        name = p.surname + gen.given(p.gender)
        if p is family[0] and usage == OWNER_OCCUPIED:
            out.houses[-1][6] = name
        values = gen.fill(p, local)
        age = _age(p.birth, gen.today)
        number = gen.id_number(p.birth, p.gender, local)
        moved_in = (gen.today - dt.timedelta(days=rng.randint(0, min(age, 30) * 365 + 30)))
        moved_in = max(moved_in, p.birth)
        left = p.extra.get("moved_out_at")
        died = p.extra.get("death_date")
        if left or died:
            moved_in = min(moved_in, left or died)
        out.people.append((rid, hh_id, name, "01", number, p.gender, p.birth.isoformat(),
                           values["ethnicity"], p.relation, values["residence_type"],
                           values["separated"], values["phone"], values["political_status"],
                           values["education"], values["marital_status"], values["occupation"],
                           values["workplace"], values["health"], p.status,
                           moved_in.isoformat(), left and left.isoformat(),
                           p.extra.get("moved_out_to"), died and died.isoformat(),
                           pinyin.initials(name)))
        out.events.append((rid, "迁入", moved_in.isoformat(), hh_id, None, None))
        if left:
            out.events.append((rid, MOVED_OUT, left.isoformat(), None, hh_id,
                               p.extra["moved_out_to"]))
        if died:
            out.events.append((rid, DECEASED, died.isoformat(), hh_id, None, None))
        if p.status != ON_RECORD:
            continue
        shortest = None
        for tag in _tags_for(rng, p, age, alone, elderly_couple):
            since = max(gen.today - dt.timedelta(days=rng.randint(30, 1500)), p.birth)
            out.tags.append((rid, out.tag_ids[tag], since.isoformat()))
            interval = out.intervals.get(tag)
            if interval and (shortest is None or interval < shortest[0]):
                shortest = (interval, since)
        if shortest:
            gen.visits(out, rid, *shortest)
    household_no = f"{unit_id:05d}{k:02d}{hh_id:06d}"
    out.households.append((hh_id, house_id, household_no, "1", head_id,
                           out.people[head_id - 1][11], ON_RECORD))
    out.houses[-1] = tuple(out.houses[-1])
    return len(out.people) - head_id + 1


def _age(birth: dt.date, today: dt.date) -> int:
    """Whole years, as the checks count them (days // 365 made some 79-year-olds 80)."""
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
