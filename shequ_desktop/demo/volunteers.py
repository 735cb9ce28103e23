"""Demo volunteers (志愿者) for shequ_desktop.demo.street: in each community four teams, about one
resident in seventy as a volunteer (a few from outside the community), a year of activities
on distinct days (so nobody is in two activities at once), sign-ins with hours, and some
points adjustments and redemptions that never take a balance below zero, at any date of the
ledger (a redemption is made only when the points earned by its date cover it).

It draws from its own random generator, so the rest of the demo is the same with or without it.
"""
from __future__ import annotations

import datetime as dt
import random

from shequ_desktop.core.idnumber import check_digit
from shequ_desktop.core.statuses import ON_RECORD

TEAMS = (("银发服务队", "为老服务"), ("关爱少儿服务队", "关爱儿童"), ("绿色家园服务队", "环境保护"),
         ("平安守护服务队", "治安巡逻"))
ACTIVITIES = {
    "为老服务": ("敬老院陪伴", "助老送餐", "老人义剪", "独居老人探访", "重阳节慰问"),
    "助残": ("助残康复陪伴", "残疾人出行帮扶"),
    "关爱儿童": ("四点半课堂", "暑期托管", "儿童安全教育"),
    "环境保护": ("垃圾分类宣传", "小区环境清洁日", "河道清理"),
    "文明实践": ("文明交通劝导", "新时代文明实践宣讲", "社区图书角整理"),
    "应急": ("防汛值守", "消防演练", "应急救护培训"),
    "治安巡逻": ("平安巡逻", "夜间安全巡查"),
    "文体活动": ("社区运动会服务", "文艺演出服务"),
    "其他": ("社区义诊协助", "便民服务日"),
}
# Activities of a season, in the months they happen (重阳节 falls in October).
SEASONS = {"重阳节慰问": (10,), "暑期托管": (7, 8), "防汛值守": (6, 7, 8)}


def in_season(title: str, category: str, month: int) -> str:
    """`title` in its months; out of them the category's first activity of any season."""
    if month in SEASONS.get(title, (month,)):
        return title
    return next(t for t in ACTIVITIES[category] if t not in SEASONS)


CATEGORY_WEIGHTS = {"为老服务": 30, "助残": 6, "关爱儿童": 12, "环境保护": 16, "文明实践": 12,
                    "应急": 5, "治安巡逻": 12, "文体活动": 4, "其他": 3}
SKILLS = ("医疗护理", "理发", "家电维修", "法律咨询", "心理疏导", "文艺", "书法", "驾驶",
          "电脑", "摄影", "烹饪", None, None, None)
PLACES = ("社区党群服务中心", "社区养老驿站", "小区广场", "社区活动室", "社区卫生服务站")
ITEMS = (("大米一袋", 30), ("食用油一桶", 40), ("洗衣液", 20), ("毛巾两条", 10),
         ("免费理发一次", 15))
STAFF = "社区工作者"
ACTIVITIES_PER_YEAR = 100        # per community


def _hours(length: float, rng: random.Random) -> float:
    """Most stay the whole activity; some leave early, in half hours."""
    if rng.random() < 0.8:
        return length
    return max(0.5, length - 0.5 * rng.randint(1, max(1, int(length * 2) - 1)))


def volunteer_work(out, seed: int, today: dt.date, used_ids: set[str]) -> None:
    rng = random.Random(seed * 7919 + 8)
    year_ago = today - dt.timedelta(days=364)
    categories = list(CATEGORY_WEIGHTS)
    weights = list(CATEGORY_WEIGHTS.values())
    for unit_id, name, first, end in out.communities:
        adults = [p for p in out.people[first:end]
                  if p[18] == ON_RECORD and 18 * 365 < (today - dt.date.fromisoformat(p[6])).days
                  < 75 * 365]
        team_ids = []
        for team_name, _kind in TEAMS:
            team_ids.append(len(out.teams) + 1)
            founded = today - dt.timedelta(days=rng.randint(400, 3000))
            out.teams.append([team_ids[-1], f"{name}{team_name}", unit_id, None,
                              founded.isoformat()])
        members: list[tuple[int, str, float]] = []       # (volunteer id, joined, keenness)
        count = max(8, (end - first) // 70)
        for person in rng.sample(adults, min(len(adults), count)):
            vid = len(out.volunteers) + 1
            joined = today - dt.timedelta(days=int(rng.triangular(30, 2500, 500)))
            team = rng.choice(team_ids) if rng.random() < 0.85 else None
            left = None
            if rng.random() < 0.04:
                left = min(today, joined + dt.timedelta(days=rng.randint(60, 900)))
            resident = person if rng.random() < 0.85 else None
            if resident is not None:
                values = (resident[0], resident[2], resident[4], resident[5], resident[6],
                          resident[11])
            else:                                   # lives elsewhere: their own record
                gender = rng.choice("12")
                birth = today - dt.timedelta(days=rng.randint(20 * 365, 60 * 365))
                while True:
                    body = f"110108{birth:%Y%m%d}{rng.randrange(500) * 2 + (gender == '1'):03d}"
                    number = body + check_digit(body)
                    if number not in used_ids:
                        used_ids.add(number)
                        break
                surname = person[2][0]
                values = (None, surname + rng.choice("华明丽军芳伟静磊洋娟"), number, gender,
                          birth.isoformat(), None)
            out.volunteers.append((vid, *values, rng.choice(SKILLS), team,
                                   joined.isoformat(), left and left.isoformat(),
                                   "退出" if left else ON_RECORD))
            keen = rng.betavariate(1.2, 4) if rng.random() > 0.05 else rng.uniform(0.7, 0.95)
            members.append((vid, joined.isoformat(), left and left.isoformat(), keen))
        for team_id in team_ids:
            in_team = [v for v in out.volunteers[-len(members):]
                       if v[8] == team_id and v[11] == ON_RECORD]
            if in_team:
                out.teams[team_id - 1][3] = rng.choice(in_team)[0]
            out.teams[team_id - 1] = tuple(out.teams[team_id - 1])
        days = sorted(rng.sample(range(365 + 14), ACTIVITIES_PER_YEAR + 3))
        earned: dict[int, list[tuple[str, float]]] = {}     # (date, points) per volunteer
        for offset in days:
            day = year_ago + dt.timedelta(days=offset)
            category = rng.choices(categories, weights)[0]
            start_hour = rng.choice((8, 9, 9, 14, 14, 19))
            length = rng.choice((2, 2, 2.5, 3, 3, 4)) if category != "应急" else rng.choice((4, 8))
            start = dt.datetime.combine(day, dt.time(start_hour))
            finish = start + dt.timedelta(hours=length)
            aid = len(out.activities) + 1
            out.activities.append((aid, in_season(rng.choice(ACTIVITIES[category]), category,
                                                  day.month), category,
                                   f"{name}居民委员会", rng.choice(PLACES),
                                   f"{start:%Y-%m-%d %H:%M}", f"{finish:%Y-%m-%d %H:%M}",
                                   unit_id))
            if day > today:
                continue                            # planned: nobody signed in yet
            iso = day.isoformat()
            for vid, joined, left, keen in members:
                if joined <= iso and (left is None or left >= iso) and rng.random() < keen:
                    hours = _hours(length, rng)
                    out.service.append((aid, vid, hours, hours))
                    earned.setdefault(vid, []).append((iso, hours))
        for vid, ledger in earned.items():
            if rng.random() < 0.05:
                bonus = rng.choice((5, 10, 20))
                on = (today - dt.timedelta(days=rng.randint(1, 200))).isoformat()
                out.adjustments.append((vid, bonus, "年度优秀志愿者奖励", on, STAFF))
                ledger.append((on, bonus))
            spent, day = 0.0, today - dt.timedelta(days=60)
            while rng.random() < 0.3:            # in date order, each covered on its date
                item, cost = rng.choice(ITEMS)
                day += dt.timedelta(days=rng.randint(0, 20))
                if day > today:
                    break
                if cost > sum(p for on, p in ledger if on <= day.isoformat()) - spent:
                    break
                spent += cost
                out.redemptions.append((vid, cost, item, day.isoformat(), STAFF))
