"""Demo data for the community's own workflows (issue 21): the catalogue's focus groups, some
members' group fields filled as a register would carry them, and two months of 一老一小
services, so the 重点人群 page means something on first start."""
from __future__ import annotations

import datetime as dt
import json
import random

from shequ_desktop.casework import events
from shequ_desktop.community import checkups, meetings, microgrids
from shequ_desktop.core.context import Context
from shequ_desktop.core.statuses import ON_RECORD
from shequ_desktop.population import focus_groups

# group -> {field label: choices}
SAMPLE_VALUES = {
    "残疾人": {"残疾类型": ("肢体残疾", "视力残疾", "听力残疾", "智力残疾", "言语残疾"),
            "残疾等级": ("一级", "二级", "三级", "四级"), "是否持有残疾证": ("是", "是", "否"),
            "劳动能力": ("有", "部分丧失", "丧失")},
    "低保": {"享受人数": ("1", "2", "3"), "领取金额(元)": ("680", "920", "1360")},
    "严重精神障碍": {"危险程度": ("0级", "1级", "2级"), "治疗状态": ("规律服药", "间断服药", "未服药")},
    "独居老人": {"身体状况": ("良好", "一般", "慢性病", "行动不便"),
             "照护需求": ("助餐", "助洁", "助医", "无")},
    "留守儿童": {"父母务工地": ("广东东莞", "浙江宁波", "新疆乌鲁木齐", "上海"),
             "就读学校": ("金堂县实验小学", "城关中学", "幸福路小学")},
    "退役军人": {"安置情况": ("自主就业", "安排工作", "退休"), "退役时间": ("1998-12", "2006-12", "2015-09")},
}
SERVICE_PLAN = (("独居老人", ("助餐", "助洁", "上门服务", "助医"), 4),
                ("高龄老人", ("助餐", "健康随访", "上门服务"), 2),
                ("空巢老人", ("助餐", "日间照料"), 1),
                ("留守儿童", ("课后托管", "上门服务"), 2))
PROVIDERS = ("幸福食堂", "社区卫生服务站", "颐养中心", "社工 李敏", "志愿者 王强")


def community_work(ctx: Context, seed: int, today: dt.date) -> dict:
    """Catalogue groups, member fields, services, micro-grids, meetings and check-ups for a
    freshly generated demo; `events`: how many events its follow-up items added."""
    rng = random.Random(seed * 7919 + 21)
    events_before = ctx.conn.execute("SELECT count(*) FROM events").fetchone()[0]
    focus_groups.ensure_catalogue(ctx)
    conn = ctx.conn
    tag_id = dict(conn.execute("SELECT name, id FROM tags"))
    young = [r for (r,) in conn.execute(
        f"SELECT id FROM residents WHERE status = '{ON_RECORD}' AND birth_date > ?",
        ((today - dt.timedelta(days=3 * 365)).isoformat(),))]
    with ctx.transaction():
        filled = 0
        for group, choices in SAMPLE_VALUES.items():
            for rid, extras in conn.execute(
                    "SELECT r.id, r.extras FROM resident_tags rt JOIN residents r"
                    " ON r.id = rt.resident_id WHERE rt.tag_id = ? AND rt.until IS NULL"
                    f" AND r.status = '{ON_RECORD}'", (tag_id[group],)).fetchall():
                if rng.random() < 0.2:           # some still to be filled in
                    continue
                have = json.loads(extras) if extras else {}
                have.update({label: rng.choice(options) for label, options in choices.items()})
                ctx.update("residents", rid, {"extras": json.dumps(have, ensure_ascii=False)})
                filled += 1
        rows = []
        for group, kinds, per_month in SERVICE_PLAN:
            for (rid,) in conn.execute(
                    "SELECT rt.resident_id FROM resident_tags rt JOIN residents r"
                    " ON r.id = rt.resident_id WHERE rt.tag_id = ? AND rt.until IS NULL"
                    f" AND r.status = '{ON_RECORD}'", (tag_id[group],)).fetchall():
                if rng.random() < 0.3:
                    continue
                for _ in range(rng.randint(1, per_month * 2)):
                    day = today - dt.timedelta(days=rng.randint(0, 60))
                    kind = rng.choice(kinds)
                    rows.append((rid, day.isoformat(), kind, rng.choice(PROVIDERS),
                                 f"{kind}一次，服务对象满意"))
        for rid in young:                      # 托育 for some under-threes (no tag needed)
            if rng.random() < 0.3:
                for _ in range(rng.randint(2, 6)):
                    day = today - dt.timedelta(days=rng.randint(0, 60))
                    rows.append((rid, day.isoformat(), "托育", "阳光托育园", "全日托育"))
        ctx.bulk_insert("services", ["resident_id", "served_on", "kind", "provider", "content"],
                        rows)
    made = _microgrids(ctx, rng)
    held = _meetings(ctx, rng, today)
    checked = _checkups(ctx, rng, today)
    return {"services": len(rows), "fields_filled": filled, "microgrids": made,
            "meetings": held, "checkups": checked,
            "events": ctx.conn.execute("SELECT count(*) FROM events").fetchone()[0]
            - events_before}


FIXES = {"C2": "北门增设电动车充电桩", "C4": "单元入口加装无障碍坡道", "D1": "闲置空地改造为口袋公园",
         "A4": "协调设立老年助餐点", "C5": "更换破损垃圾分类亭", "E1": "选聘物业或成立自管小组",
         "B2": "设置智能快递柜", "C3": "修补破损人行步道"}


def _checkups(ctx: Context, rng: random.Random, today: dt.date) -> int:
    """Each compound checked last year and this year: statuses mostly better this year,
    improvement items for what fell short (last year's closed)."""

    conn = ctx.conn
    done = 0
    last_day = dt.date(today.year - 1, 10, 15)
    this_day = min(today - dt.timedelta(days=5), dt.date(today.year, 10, 15))
    with ctx.transaction():
        for (compound,) in conn.execute("SELECT id FROM grid_units WHERE level = 'compound'"
                                        " ORDER BY id").fetchall():
            before: dict[str, str] = {}
            for year, day in ((today.year - 1, last_day), (today.year, this_day)):
                checkup = checkups.start_checkup(ctx, compound, year, day, "社区两委").id
                for code in checkups.items():
                    weights = (60, 25, 15) if code not in before else (
                        (85, 15, 0) if before[code] != "不达标" else (40, 40, 20))
                    status = rng.choices(("达标", "基本达标", "不达标"), weights)[0]
                    if code == "A2" and rng.random() < 0.3:
                        status = "不适用"
                    checkups.set_result(ctx, checkup, code, status,
                                        "需改进" if status == "不达标" else None)
                    if status == "不达标" and code in FIXES:
                        item = checkups.add_finding(ctx, checkup, code, FIXES[code],
                                                    "物业服务中心", deadline_days=30)
                        event = conn.execute("SELECT event_id FROM checkup_findings WHERE id = ?",
                                             (item.id,)).fetchone()[0]
                        if year < today.year:
                            events.start(ctx, event)
                            events.close(ctx, event, "已整改",
                                         on=day + dt.timedelta(days=rng.randint(20, 60)))
                    before[code] = status
                done += 1
    return done


TOPICS = (("加装电梯费用分摊", "按楼层系数分摊费用，一楼住户不出资；委托物业报施工方案",
           "物业出具施工方案并公示"),
          ("楼道堆物清理和电动车充电桩设置", "周末集中清理楼道；在北门增设充电桩 20 个",
           "联系供电所确定充电桩位置"),
          ("小区停车位划线和收费", "地面车位按先到先得，临时停车两小时内免费",
           "业委会公示收费标准"),
          ("老旧小区改造需求征集", "优先改造雨污管网和单元门禁", "汇总需求报街道"),
          ("院坝文化活动安排", "每月第一个周六举办院坝坝坝会", "志愿者排班"),
          ("绿化带改菜地问题", "恢复绿化，设置社区共享花园一处", "物业一周内恢复绿化"))


def _meetings(ctx: Context, rng: random.Random, today: dt.date) -> int:
    """Two or three meetings per compound in the last year: participants from the compound
    and its property manager, a vote, follow-up items as events (older ones closed)."""

    conn = ctx.conn
    held = 0
    compounds = conn.execute("SELECT id, name FROM grid_units WHERE level = 'compound'"
                             " ORDER BY id").fetchall()
    with ctx.transaction():
        for compound, name in compounds:
            people = [r[0] for r in conn.execute(f"""
                SELECT r.id FROM residents r JOIN households h ON h.id = r.household_id
                JOIN houses ho ON ho.id = h.house_id JOIN grid_units u ON u.id = ho.unit_id
                LEFT JOIN grid_units b ON b.id = u.parent_id
                WHERE r.status = '{ON_RECORD}' AND r.birth_date < '2000-01-01'
                  AND ? IN (u.parent_id, b.parent_id) ORDER BY r.id LIMIT 200""", (compound,))]
            if len(people) < 10:
                continue
            for _ in range(rng.randint(2, 3)):
                topic, decision, follow = rng.choice(TOPICS)
                day = today - dt.timedelta(days=rng.randint(3, 330))
                who = rng.sample(people, rng.randint(9, 16))
                against = rng.randint(0, 2)
                abstain = rng.randint(0, 1)
                kind = rng.choice(("小区议事会", "院落议事会", "居民议事会"))
                meeting = meetings.create_meeting(
                    ctx, compound, kind, day, topic, place=f"{name}党群服务站",
                    host="社区党委书记", recorder="网格员", participants=[
                        *who, {"name": f"{name}物业经理", "role": "物业"}],
                    discussion=f"与会居民围绕“{topic}”逐一发言，物业说明了现状和困难。",
                    decisions=decision, votes_for=len(who) + 1 - against - abstain,
                    votes_against=against, votes_abstain=abstain).id
                item = meetings.add_follow_up(ctx, meeting, follow, f"{name}物业经理",
                                              deadline_days=10)
                event = conn.execute("SELECT event_id FROM meeting_items WHERE id = ?",
                                     (item.id,)).fetchone()[0]
                if (today - day).days > 40:
                    events.start(ctx, event)
                    events.close(ctx, event, "已按议事会议定事项办理",
                                 on=day + dt.timedelta(days=rng.randint(5, 20)))
                held += 1
    return held


def _microgrids(ctx: Context, rng: random.Random) -> int:
    """A micro-grid per building, its head a resident living there (楼栋长, or 党员中心户 for a
    party member); in each grid's first building, 30 households chosen around a 党员中心户
    form one more; a third of the open events are assigned to a micro-grid head."""

    conn = ctx.conn
    made = 0
    with ctx.transaction():
        for building, name, grid in conn.execute("""
                SELECT b.id, coalesce(c.name, '') || b.name, g.id
                FROM grid_units b JOIN grid_units p ON p.id = b.parent_id
                LEFT JOIN grid_units c ON c.id = b.parent_id AND c.level = 'compound'
                JOIN grid_units g ON g.id = CASE p.level WHEN 'grid' THEN p.id ELSE p.parent_id END
                WHERE b.level = 'building' ORDER BY g.id, b.id""").fetchall():
            people = conn.execute(f"""
                SELECT r.id, r.political_status FROM residents r
                JOIN households h ON h.id = r.household_id JOIN houses ho ON ho.id = h.house_id
                JOIN grid_units u ON u.id = ho.unit_id
                WHERE (u.id = ? OR u.parent_id = ?) AND r.status = '{ON_RECORD}' AND r.phone IS NOT NULL
                  AND r.birth_date BETWEEN '1955-01-01' AND '1990-12-31'
                ORDER BY r.id""", (building, building)).fetchall()
            if not people:
                continue
            head = rng.choice(people)
            role = "党员中心户" if head[1] in ("01", "02") else "楼栋长"
            microgrids.create_microgrid(ctx, grid, f"{name}微网格", unit_id=building,
                                        head_resident_id=head[0], head_role=role)
            made += 1
        for (grid,) in conn.execute("SELECT id FROM grid_units WHERE level = 'grid'"
                                    " ORDER BY id").fetchall():
            # the grid's biggest building is split: 30 of its households around a 党员中心户
            biggest = conn.execute("""
                SELECT m.unit_id FROM microgrids m JOIN grid_units u ON u.parent_id = m.unit_id
                  OR u.id = m.unit_id JOIN houses ho ON ho.unit_id = u.id
                JOIN households h ON h.house_id = ho.id
                WHERE m.grid_id = ? GROUP BY m.id ORDER BY count(*) DESC LIMIT 1""",
                                   (grid,)).fetchone()
            if biggest is None:
                continue
            households = [r[0] for r in conn.execute(f"""
                SELECT h.id FROM households h JOIN houses ho ON ho.id = h.house_id
                JOIN grid_units u ON u.id = ho.unit_id
                WHERE h.status = '{ON_RECORD}' AND (u.id = ? OR u.parent_id = ?)
                ORDER BY h.id LIMIT 30""", (biggest[0], biggest[0]))]
            if len(households) < 30:
                continue
            head = conn.execute("SELECT head_resident_id FROM households WHERE id = ?",
                                (households[0],)).fetchone()[0]
            chosen = microgrids.create_microgrid(ctx, grid, "党员联系户微网格",
                                                 head_resident_id=head, head_role="党员中心户")
            microgrids.set_households(ctx, chosen.id, households)
            made += 1
        for event, unit in conn.execute("SELECT id, unit_id FROM events WHERE status NOT IN"
                                        " ('办结', '归档') ORDER BY id").fetchall():
            if rng.random() < 0.35:
                mg = conn.execute("SELECT id FROM microgrids WHERE grid_id = ? ORDER BY id"
                                  " LIMIT 1", (unit,)).fetchone()
                if mg:
                    ctx.update("events", event, {"microgrid_id": mg[0]})
    return made
