#!/usr/bin/env python3
"""Adds SAMPLE 重大危险源 registration records (登记建档与备案) and inspection
findings (检查发现) to the demo enterprises in data/demo/enterprises.geojson.

Every record is invented (示例). Registration records go to every enterprise
with a graded unit in data/demo/expected_major_hazards.csv. The findings
answer diagnosis headings that registration data cannot (人员资质, 自控与安全设施,
管理制度, 直接判定为红色 …); they are chosen so that no demo level changes:
compliant findings, deficient ones on the enterprise that is already red
(ent-02), and deficiencies registered as hidden dangers that have since been
closed (销号), which therefore no longer deduct.

Idempotent: it replaces the two properties each run.
Run from the repository root: python3 scripts/build-demo-inspections.py
"""
import csv
import json

PATH = "data/demo/enterprises.geojson"
feats = json.load(open(PATH))["features"]
dangers = {f["id"]: f["properties"] for f in json.load(open("data/demo/hidden_dangers.geojson"))["features"]}

graded = set()
for row in csv.DictReader(open("data/demo/expected_major_hazards.csv")):
    if row["grade"]:
        graded.add(row["unit_id"].rsplit("-", 1)[0])

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚"


def person(seed, k):
    i = (seed * 7 + k * 3) % len(SURNAMES)
    j = (seed * 5 + k * 11) % len(GIVEN)
    return SURNAMES[i] + GIVEN[j] + "（示例）"


REGULATOR = {"330114": "钱塘区应急管理局", "330109": "萧山区应急管理局"}

# (enterprise, [(id, item, date, result, deduction, clause, note, danger_id)])
FINDINGS = {
    "ent-01": [
        ("JC-2026-0412", "personnel", "2026-04-12", "compliant", None, None,
         "主要负责人、安全管理人员考核合格证在有效期内（示例）", None),
        ("JC-2026-0413", "red_special_workers", "2026-04-12", "compliant", None, None,
         "抽查12名特种作业人员均持证上岗（示例）", None),
        ("JC-2026-0414", "management", "2026-04-12", "compliant", None, None,
         "操作规程、特殊作业票证管理制度齐全并执行（示例）", None),
    ],
    "ent-02": [
        ("JC-2026-0621", "management", "2026-06-21", "deficient", 10.0,
         "诊断分级指南 7.安全管理制度 特殊作业管理制度不符合要求扣10分",
         "动火作业未落实分级审批（示例）", None),
        ("JC-2026-0622", "red_special_workers", "2026-06-21", "deficient", None, None,
         "2名电工作业人员证书过期（示例）", None),
    ],
    "ent-04": [
        ("JC-2026-0508", "automation", "2026-05-08", "compliant", None, None,
         "罐区紧急切断、SIS、可燃气体检测报警系统投用正常（示例）", None),
        ("JC-2026-0509", "equipment", "2026-05-08", "compliant", None, None,
         "双重电源供电，安全阀均在检验有效期内（示例）", None),
    ],
    "ent-05": [
        ("JC-2026-0923", "automation", "2026-09-23", "deficient", 10.0,
         "诊断分级指南 5.自控与安全设施 重点监管工艺装置未实现紧急停车扣10分",
         "合成氨装置紧急停车系统未投用（示例）", "hd-029"),
    ],
    "ent-16": [
        ("JC-2026-1028", "automation", "2026-10-28", "deficient", 5.0,
         "诊断分级指南 5.自控与安全设施 罐区未实现紧急切断扣5分",
         "液氨储罐紧急切断阀旁路常开（示例）", "hd-030"),
    ],
    "ent-23": [
        ("JC-2026-0315", "design_assessment", "2026-03-15", "compliant", None, None,
         "新建装置由甲级设计单位设计，HAZOP分析已完成（示例）", None),
    ],
}

for n, f in enumerate(sorted(feats, key=lambda f: f["id"])):
    p = f["properties"]
    eid = f["id"]
    p.pop("major_hazard_registration", None)
    p.pop("inspection_findings", None)
    if eid in graded:
        year = 2018 + n % 6
        p["major_hazard_registration"] = {
            # 备案 follows 登记建档 by a month or so.
            "registered": "%d-%02d-%02d" % (year, 2 + n % 9, 1 + n % 27),
            "filed": "%d-%02d-%02d" % (year, 3 + n % 9, 1 + (n * 7) % 27),
            "last_assessment": "%d-%02d-15" % (2022 + n % 4, 1 + n % 12),
            "principal": person(n, 0),
            "technical": person(n, 1),
            "operational": person(n, 2),
            "regulator": REGULATOR.get(p["district_code"], "杭州市应急管理局"),
        }
    rows = FINDINGS.get(eid, [])
    out = []
    for (fid, item, date, result, deduction, clause, note, danger_id) in rows:
        if danger_id is not None:
            d = dangers[danger_id]
            assert d["enterprise_id"] == eid and d["status"] == "closed", danger_id
        rec = {"id": fid, "item": item, "date": date, "result": result,
               "inspector": REGULATOR.get(p["district_code"], "杭州市应急管理局") + "（示例）",
               "note": note}
        if deduction is not None:
            rec["deduction"] = deduction
        if clause is not None:
            rec["clause"] = clause
        if danger_id is not None:
            rec["danger_id"] = danger_id
        out.append(rec)
    if out:
        p["inspection_findings"] = out

lines = [json.dumps(f, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
         for f in sorted(feats, key=lambda f: f["id"])]
open(PATH, "w").write('{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n")
print("registrations: %d, enterprises with findings: %d" % (len(graded), len(FINDINGS)))
