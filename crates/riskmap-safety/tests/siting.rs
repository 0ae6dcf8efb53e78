//! GB/T 37243-2019 siting: the §4 decision flow, the consequence method for
//! explosives and the code separation distances.

use riskmap_core::model::{Substance, Unit, UnitKind};
use riskmap_safety::TargetClass;
use riskmap_safety::qra::QraRules;
use riskmap_safety::siting::{
    CodeDistanceTable, FacilityKind, Method, choose_methods, explosive_consequence_zone,
};

fn sub(name: &str, cas: &str, q: f64) -> Substance {
    Substance {
        name: Some(name.into()),
        cas: Some(cas.into()),
        quantity_t: q,
        hazard_categories: vec![],
    }
}

fn unit(id: &str, kind: UnitKind, substances: Vec<Substance>) -> Unit {
    Unit {
        id: id.into(),
        name: None,
        kind,
        geometry: None,
        substances,
        processes: vec![],
    }
}

fn methods(units: &[Unit]) -> Vec<Method> {
    choose_methods(units).iter().map(|c| c.method).collect()
}

#[test]
fn explosives_take_the_consequence_method() {
    // TNT (GB 18218 表1 #35, Q = 5 t) even below its critical quantity.
    let u = unit(
        "W1",
        UnitKind::Storage,
        vec![sub("2,4,6-三硝基甲苯", "118-96-7", 0.5)],
    );
    assert_eq!(methods(std::slice::from_ref(&u)), [Method::Consequence]);
    let c = &choose_methods(&[u])[0];
    assert_eq!(c.substances, ["2,4,6-三硝基甲苯"]);
    assert!(c.clause.starts_with("GB/T 37243-2019"));
    // A W1.x category marks an explosive too.
    let cat = unit(
        "W2",
        UnitKind::Storage,
        vec![Substance {
            name: Some("某炸药".into()),
            cas: None,
            quantity_t: 1.0,
            hazard_categories: vec!["W1.1".into()],
        }],
    );
    assert_eq!(methods(&[cat]), [Method::Consequence]);
}

#[test]
fn toxic_gas_at_its_critical_quantity_takes_qra() {
    // Chlorine: Q = 5 t (GB 18218 表1 #12). 30 t → q/Q = 6 ≥ 1.
    let big = unit(
        "T1",
        UnitKind::Storage,
        vec![sub("液氯", "7782-50-5", 30.0)],
    );
    let choice = choose_methods(&[big]);
    assert_eq!(choice.len(), 1);
    assert_eq!(choice[0].method, Method::Qra);
    assert!(
        choice[0].reason_en.contains("6.000"),
        "{}",
        choice[0].reason_en
    );
    // Exactly 5 t: Σq/Q = 1 ≥ 1.
    let edge = unit("T1", UnitKind::Storage, vec![sub("液氯", "7782-50-5", 5.0)]);
    assert_eq!(methods(&[edge]), [Method::Qra]);
    // The same chlorine below its critical quantity → code distances.
    let small = unit("T1", UnitKind::Storage, vec![sub("液氯", "7782-50-5", 2.0)]);
    assert_eq!(methods(&[small]), [Method::CodeDistance]);
    // Flammable gas: LPG Q = 50 t; 60 t → QRA. Hydrogen Q = 5 t; 1 t → codes.
    let lpg = unit(
        "T2",
        UnitKind::Storage,
        vec![sub("液化石油气", "68476-85-7", 60.0)],
    );
    assert_eq!(methods(&[lpg]), [Method::Qra]);
    let h2 = unit(
        "P1",
        UnitKind::Production,
        vec![sub("氢气", "1333-74-0", 1.0)],
    );
    assert_eq!(methods(&[h2]), [Method::CodeDistance]);
    // Two gases summing to ≥ 1: chlorine 3 t (0.6) + ammonia 5 t (Q 10 t, 0.5).
    let sum = unit(
        "P2",
        UnitKind::Production,
        vec![sub("液氯", "7782-50-5", 3.0), sub("液氨", "7664-41-7", 5.0)],
    );
    assert_eq!(methods(&[sum]), [Method::Qra]);
    // Methanol (a liquid) does not count toward the gas sum: 3 t chlorine + 600 t methanol.
    let liquid = unit(
        "P3",
        UnitKind::Production,
        vec![sub("液氯", "7782-50-5", 3.0), sub("甲醇", "67-56-1", 600.0)],
    );
    assert_eq!(methods(&[liquid]), [Method::CodeDistance]);
}

#[test]
fn methanol_only_takes_code_distances() {
    let u = unit("T3", UnitKind::Storage, vec![sub("甲醇", "67-56-1", 800.0)]);
    let c = choose_methods(&[u]);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].method, Method::CodeDistance);
    assert!(c[0].unconfirmed);
    assert!(choose_methods(&[unit("E", UnitKind::Storage, vec![])]).is_empty());
}

#[test]
fn mixed_sites_take_several_methods() {
    let units = [
        unit("W1", UnitKind::Storage, vec![sub("TNT", "118-96-7", 2.0)]),
        unit(
            "T1",
            UnitKind::Storage,
            vec![sub("液氯", "7782-50-5", 30.0)],
        ),
        unit("T3", UnitKind::Storage, vec![sub("甲醇", "67-56-1", 100.0)]),
    ];
    assert_eq!(
        methods(&units),
        [Method::Consequence, Method::Qra, Method::CodeDistance]
    );
    let c = choose_methods(&units);
    assert_eq!(c[1].units, ["T1"]);
    assert_eq!(c[2].units, ["T3"]);
    // One unit with both an explosive and chlorine above Q: both methods.
    let both = unit(
        "X",
        UnitKind::Storage,
        vec![sub("TNT", "118-96-7", 1.0), sub("液氯", "7782-50-5", 10.0)],
    );
    assert_eq!(methods(&[both]), [Method::Consequence, Method::Qra]);
    let json = serde_json_like(&c[0].method);
    assert_eq!(json, "consequence");
}

fn serde_json_like(m: &Method) -> &'static str {
    // The serde names are snake_case (checked in method_serialises_snake_case).
    match m {
        Method::Consequence => "consequence",
        Method::Qra => "qra",
        Method::CodeDistance => "code_distance",
    }
}

#[test]
fn method_serialises_snake_case() {
    #[derive(serde::Serialize)]
    struct W {
        m: Method,
    }
    for (m, s) in [
        (Method::Consequence, "consequence"),
        (Method::Qra, "qra"),
        (Method::CodeDistance, "code_distance"),
    ] {
        let text = serde_json::to_string(&W { m }).unwrap();
        assert_eq!(text, format!("{{\"m\":\"{s}\"}}"));
        assert_eq!(serde_json_like(&m), s);
    }
}

/// 1 t TNT, Kingery–Bulmash surface burst, 2 kPa (GB 6722 placeholder):
/// consequence-models.md §1.3 gives 451.92 m for W = 1000 kg at 2 kPa.
#[test]
fn explosive_zone_of_one_tonne_tnt() {
    let rules = QraRules::embedded();
    let units = [
        unit("W1", UnitKind::Storage, vec![sub("TNT", "118-96-7", 1.0)]),
        unit("W2", UnitKind::Storage, vec![sub("TNT", "118-96-7", 0.2)]),
        unit("T3", UnitKind::Storage, vec![sub("甲醇", "67-56-1", 100.0)]),
    ];
    let z = explosive_consequence_zone(&units, rules).unwrap().unwrap();
    assert_eq!(z.unit_id, "W1");
    assert!((z.tnt_kg - 1000.0).abs() < 1e-9);
    assert_eq!(z.threshold_pa, 2000.0);
    assert!(
        (z.radius_m - 451.92).abs() < 0.02 * 451.92,
        "{}",
        z.radius_m
    );
    assert!(z.unconfirmed);
    assert!(z.threshold_source.contains("PLACEHOLDER"));
    // Ammonium nitrate: TNT equivalence 0.32 [M] → noted as UNCONFIRMED.
    let an = [unit(
        "W3",
        UnitKind::Storage,
        vec![sub("硝酸铵", "6484-52-2", 10.0)],
    )];
    let z = explosive_consequence_zone(&an, rules).unwrap().unwrap();
    assert!((z.tnt_kg - 3200.0).abs() < 1e-6);
    assert!(z.notes.iter().any(|n| n.contains("UNCONFIRMED")));
    assert!(
        explosive_consequence_zone(&units[2..], rules)
            .unwrap()
            .is_none()
    );
}

#[test]
fn code_distances_by_facility_and_class() {
    let t = CodeDistanceTable::embedded();
    let lpg = unit(
        "T2",
        UnitKind::Storage,
        vec![sub("液化石油气", "68476-85-7", 10.0)],
    );
    let meoh = unit("T3", UnitKind::Storage, vec![sub("甲醇", "67-56-1", 100.0)]);
    let cl2 = unit("T1", UnitKind::Storage, vec![sub("液氯", "7782-50-5", 2.0)]);
    let plant = unit(
        "P1",
        UnitKind::Production,
        vec![sub("甲醇", "67-56-1", 10.0)],
    );
    let carbide = unit(
        "W1",
        UnitKind::Storage,
        vec![sub("碳化钙（电石）", "75-20-7", 10.0)],
    );

    let d = t.required(std::slice::from_ref(&lpg), TargetClass::General1);
    assert_eq!(d[0].facility, "液化烃罐组");
    assert_eq!(
        d[0].facility_kind,
        FacilityKind::LiquefiedHydrocarbonTankFarm
    );
    assert_eq!(d[0].distance_m, 150.0);
    assert!(d[0].standard.starts_with("GB 50160"));
    assert!(d.iter().all(|r| r.unconfirmed));

    let d = t.required(std::slice::from_ref(&meoh), TargetClass::General3);
    let v: Vec<f64> = d.iter().map(|r| r.distance_m).collect();
    assert_eq!(v, [100.0, 40.0], "strictest first");

    // Toxic-only storage has no code row.
    assert!(t.required(&[cl2], TargetClass::HighSensitivity).is_empty());

    // Production: GB 50160 process unit 100 m, GB 50016 plant building 50 m
    // to important public buildings, 25 m to other civil buildings.
    let d = t.required(std::slice::from_ref(&plant), TargetClass::HighSensitivity);
    assert_eq!(
        d.iter().map(|r| r.distance_m).collect::<Vec<_>>(),
        [100.0, 50.0]
    );
    let d = t.required(&[plant], TargetClass::General2);
    assert_eq!(
        d.iter().map(|r| r.distance_m).collect::<Vec<_>>(),
        [100.0, 25.0]
    );

    let d = t.required(&[carbide], TargetClass::General1);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].facility_kind, FacilityKind::WarehouseA);

    // Several units: rows carry the units of their facility kind.
    let d = t.required(&[lpg, meoh], TargetClass::Important);
    assert_eq!(d[0].units, ["T2"]);
    assert!(d.iter().any(|r| r.units == ["T3"]));
}

#[test]
fn code_distance_table_rejects_bad_rows() {
    let good = "table_status = \"UNCONFIRMED\"\n[[row]]\nfacility = \"warehouse_a\"\nfacility_zh = \"甲类仓库\"\ntarget_classes = [\"general_1\"]\ntarget_zh = \"民用建筑\"\ndistance_m = 25.0\nstandard = \"GB 50016\"\nclause = \"表3.5.1\"\nconfidence = \"M\"\n";
    assert!(CodeDistanceTable::from_toml_str(good).is_ok());
    assert!(CodeDistanceTable::from_toml_str(&good.replace("25.0", "-1.0")).is_err());
    assert!(CodeDistanceTable::from_toml_str(&good.replace("[\"general_1\"]", "[]")).is_err());
    assert!(CodeDistanceTable::from_toml_str(&good.replace("warehouse_a", "castle")).is_err());
}
