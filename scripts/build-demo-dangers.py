#!/usr/bin/env python3
"""Builds data/demo/hidden_dangers.geojson, the demo city's SAMPLE hidden-danger
register (隐患台账, 示例数据), from the demo enterprises and districts.

Every record is invented and labelled `"sample": true`. The register has
dangers in every lifecycle state and both levels, some overdue on
2026-12-06, some 挂牌督办. Open 重大 dangers are placed only on the demo
enterprise that is already red (ent-02) or in public places, so the demo's
other levels stay as they are; closing or reporting one moves them.

Run from the repository root: python3 scripts/build-demo-dangers.py
"""
import json
import random

random.seed(20261206)

ents = json.load(open("data/demo/enterprises.geojson"))["features"]
districts = json.load(open("data/demo/districts.geojson"))["features"]


def centre(geom):
    pts = []
    def walk(c):
        if isinstance(c[0], (int, float)):
            pts.append(c)
        else:
            for x in c:
                walk(x)
    walk(geom["coordinates"])
    return [sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts)]


GENERAL = [
    ("罐区防火堤内积水未及时排除，排水阀常开", "关闭排水阀，建立雨后排水检查制度"),
    ("可燃气体检测报警仪未按期标定", "委托有资质单位标定并建立标定台账"),
    ("装卸区静电接地夹损坏", "更换静电接地夹并每班检查"),
    ("消防通道堆放杂物", "清理通道并设置禁止堆放标识"),
    ("动火作业票证填写不完整", "重新培训作业票证管理规定"),
    ("安全警示标志褪色、缺失", "更换安全警示标志"),
    ("应急器材柜内空气呼吸器压力不足", "充装并建立月检记录"),
    ("配电室门口未设挡鼠板", "加设挡鼠板"),
    ("防爆区域内使用非防爆手机", "配备防爆通讯设备，加强门岗检查"),
    ("岗位操作规程未及时修订", "修订操作规程并组织培训"),
]
MAJOR = [
    ("HC121-05", "一级重大危险源罐区紧急切断阀未投用"),
    ("HC121-12", "甲类仓库可燃气体检测报警装置缺失"),
    ("HC121-15", "反应釜安全阀拆除后未恢复"),
    ("HC121-03", "罐区外部安全防护距离内新建居民楼"),
    ("HC121-20", "相互禁配物质混放混存"),
    ("HC121-04", "硝化工艺紧急停车系统未投入使用"),
]
PEOPLE = ["张伟", "王芳", "李强", "刘洋", "陈静", "杨磊", "赵敏", "黄涛"]
ACTORS = {"self_check": "企业安全员", "inspection": "区应急管理局执法人员",
          "public_report": "12350 举报受理员", "grid_worker": "网格员"}

# (level, path of actions, deadline kind, enterprise choice)
PATHS = {
    "reported": [],
    "verified": ["verify"],
    "supervised": ["verify", "supervise"],
    "rectifying": ["verify", "start_rectification"],
    "rectifying_major": ["verify", "supervise", "start_rectification"],
    "rectified": ["verify", "start_rectification", "request_closure"],
    "closed": ["verify", "start_rectification", "request_closure", "close"],
    "closed_major": ["verify", "supervise", "start_rectification", "request_closure", "close"],
    "reopened": ["verify", "start_rectification", "request_closure", "reopen"],
    "rejected": ["reject"],
}
TO = {"verify": "verified", "supervise": "supervised", "start_rectification": "rectifying",
      "request_closure": "rectified", "close": "closed", "reopen": "rectifying", "reject": "rejected"}
NOTES = {"verify": "现场核实属实", "supervise": "列入挂牌督办", "start_rectification": "制定整改方案，落实五定",
         "request_closure": "整改完成，申请验收", "close": "验收合格，予以销号", "reopen": "验收不合格，继续整改",
         "reject": "经核实不构成事故隐患"}

plan = []
# General dangers over the non-red enterprises, in every state a general one can take.
general_states = ["reported", "verified", "rectifying", "rectified", "closed", "reopened", "rejected"]
others = [e for e in ents if e["id"] != "ent-02"]
for i in range(28):
    plan.append(("general", general_states[i % len(general_states)], others[(i * 7) % len(others)]))
# Major dangers: closed or rejected ones anywhere; open ones on ent-02 or in public places.
ent02 = next(e for e in ents if e["id"] == "ent-02")
for i, st in enumerate(["closed_major", "closed_major", "rejected"]):
    plan.append(("major", st, others[(i * 11 + 3) % len(others)]))
for st in ["reported", "verified", "supervised", "rectifying_major", "rectified"]:
    plan.append(("major", st, ent02))
for st in ["supervised", "rectifying_major"]:
    plan.append(("major", st, None))

features = []
for n, (level, state, ent) in enumerate(plan, start=1):
    did = f"hd-{n:03d}"
    source = random.choice(["self_check", "inspection", "public_report", "grid_worker"]) if ent else random.choice(["public_report", "grid_worker"])
    month = random.randint(1, 11)
    found = f"2026-{month:02d}-{random.randint(1, 28):02d}"
    overdue = n % 3 == 0
    due_month = month + random.randint(1, 3)
    if overdue or due_month > 12:
        deadline = f"2026-{min(due_month, 11):02d}-{random.randint(1, 28):02d}"
    else:
        deadline = f"2027-{due_month:02d}-{random.randint(1, 28):02d}" if not overdue else deadline
    if deadline < found:
        deadline = f"2026-{month:02d}-28"
    if ent:
        c = centre(ent["geometry"])
        props = {"enterprise_id": ent["id"], "district_code": ent["properties"].get("district_code"),
                 "industry": ent["properties"].get("industry")}
    else:
        d = districts[(n * 5) % len(districts)]
        c = centre(d["geometry"])
        props = {"district_code": d["properties"]["code"], "industry": "城镇燃气"}
    c = [round(c[0] + random.uniform(-0.0008, 0.0008), 6), round(c[1] + random.uniform(-0.0008, 0.0008), 6)]
    if level == "major":
        item, text = MAJOR[n % len(MAJOR)]
        if not ent:
            item, text = "HC121-08", "燃气管道穿越人员密集公共区域且无防护措施"
        props.update({"rule_item": item, "description": text + "（示例）"})
        measures = "停产整改，制定专项方案，落实资金、时限、责任人和应急预案"
        funds = random.choice([120000, 350000, 800000])
    else:
        text, measures = GENERAL[n % len(GENERAL)]
        props["description"] = text + "（示例）"
        funds = random.choice([500, 2000, 8000, 15000])
    history = [{"action": "report", "to": "reported", "actor": ACTORS[source], "at": found + "T09:00:00Z",
                "note": "发现并登记"}]
    status = "reported"
    day = 0
    for a in PATHS[state]:
        day += random.randint(1, 6)
        m, dd = int(found[5:7]), int(found[8:10]) + day
        if dd > 28:
            m, dd = min(m + 1, 12), dd - 28
        ev = {"action": a, "from": status, "to": TO[a], "actor": "区应急管理局" if a in ("verify", "supervise", "close", "reopen", "reject") else "企业安全负责人",
              "at": f"2026-{m:02d}-{dd:02d}T10:00:00Z", "note": NOTES[a]}
        if a == "supervise":
            ev["listing_level"] = random.choice(["county", "city", "province"])
            props["listing_level"] = ev["listing_level"]
        if a in ("request_closure", "close"):
            ev["evidence"] = "整改前后照片及验收报告（示例）"
        history.append(ev)
        status = TO[a]
    props.update({
        "source": source, "level": level, "found_date": found, "deadline": deadline,
        "responsible_person": random.choice(PEOPLE), "measures": measures, "funds_cny": funds,
        "status": status, "history": history, "sample": True,
    })
    props = {k: v for k, v in props.items() if v is not None}
    features.append({"type": "Feature", "id": did, "geometry": {"type": "Point", "coordinates": c},
                     "properties": props})

out = {"type": "FeatureCollection",
       "name": "hidden_dangers",
       "note": "SAMPLE hidden-danger register (示例隐患台账) for the demo city; every record is invented. Built by scripts/build-demo-dangers.py.",
       "features": features}
with open("data/demo/hidden_dangers.geojson", "w") as f:
    json.dump(out, f, ensure_ascii=False, indent=1)
print(len(features), "dangers")
