//! Refusals: every public model function of riskmap-safety answers a NaN,
//! an infinity, a negative number (and 0 where the model is not defined
//! there) with a named error, never with a number that understates the
//! hazard. Where 0 is legitimate, the documented value is checked, and that
//! it is not a smaller hazard than a valid nearby input gives.
//!
//! An incident tool is fed by hand in a hurry: a mistyped field must stop
//! the answer, not turn into a 0 m radius, P = 0, "Acceptable" or the risk
//! at the wrong place.

use proptest::prelude::*;

use riskmap_core::model::{Substance, Unit, UnitKind};
use riskmap_safety::consequence::fireball::{Fireball, FireballModel, FireballSep};
use riskmap_safety::consequence::jet_fire::{JetFire, JetSource};
use riskmap_safety::consequence::plume::{
    GaussianPlume, StabilityClass, Terrain, briggs_sigmas, plume_concentration,
};
use riskmap_safety::consequence::pool_fire::{
    BurningRate, FlameLength, FlameTilt, PoolFire, PoolFireRadiation, SurfaceEmissivePower,
};
use riskmap_safety::consequence::probit::{
    LogProbit, OverpressureProbit, ThermalProbit, normal_cdf, probability_from_probit,
    probit_from_probability,
};
use riskmap_safety::consequence::toxic_probits::ToxicProbitTable;
use riskmap_safety::consequence::transmissivity::Transmissivity;
use riskmap_safety::consequence::vce::{
    BlastCurve, TntEquivalence, VapourCloudExplosion, chinese_damage_radii,
};
use riskmap_safety::consequence::view_factor::{
    sphere_facing, tilted_cylinder, vertical_cylinder, vertical_cylinder_max,
};
use riskmap_safety::qra::{
    Cloud, Equipment, GridSpec, Outcome, OutcomeKind, OutcomeModel, PopulationPoint, QraModel,
    QraRules, Scenario, ScenarioKind, ScenarioParams, UnitRelease, Weather, auto_grid,
    crosswind_integral, fn_curve, individual_risk_at, individual_risk_field,
    individual_risk_parts_at, risk_contours, scenarios_for_units, sector_fraction,
    sector_lethality,
};
use riskmap_safety::siting::explosive_consequence_zone;
use riskmap_safety::targets::{
    InstallationStatus, SizeCriterion, SizeMetric, TargetClass, meets_ir_criterion,
};
use riskmap_safety::{EffectModel, EffectThresholds, SafetyError};

// ---------------------------------------------------------------------------
// Strategies and checks.

/// NaN, +∞ or −∞.
fn non_finite() -> impl Strategy<Value = f64> {
    prop_oneof![Just(f64::NAN), Just(f64::INFINITY), Just(f64::NEG_INFINITY)]
}

/// A negative finite number, from the smallest to the largest magnitude.
fn negative() -> impl Strategy<Value = f64> {
    prop_oneof![
        -1e9f64..-1e-9,
        Just(-f64::MIN_POSITIVE),
        Just(f64::MIN),
        Just(-1.0)
    ]
}

/// NaN, ±∞ or a negative number.
fn bad() -> impl Strategy<Value = f64> {
    prop_oneof![non_finite(), negative()]
}

/// [`bad`] or 0.
fn bad_or_zero() -> impl Strategy<Value = f64> {
    prop_oneof![bad(), Just(0.0)]
}

/// The field an error names, if it names one.
fn field_of(e: &SafetyError) -> Option<&'static str> {
    match e {
        SafetyError::InvalidInput { field, .. }
        | SafetyError::InvalidItem { field, .. }
        | SafetyError::BeyondRange { field, .. } => Some(field),
        _ => None,
    }
}

/// `r` is an error naming `field`.
fn refused<T: std::fmt::Debug>(
    r: Result<T, SafetyError>,
    field: &str,
) -> Result<(), TestCaseError> {
    match r {
        Err(e) => {
            prop_assert_eq!(field_of(&e), Some(field), "{}", e);
            Ok(())
        }
        Ok(v) => Err(TestCaseError::fail(format!(
            "expected a refusal naming `{field}`, got Ok({v:?})"
        ))),
    }
}

/// `r` is an [`SafetyError::InvalidItem`] naming `field` in an item whose
/// description contains `item`.
fn refused_item<T: std::fmt::Debug>(
    r: Result<T, SafetyError>,
    item_part: &str,
    field_name: &str,
) -> Result<(), TestCaseError> {
    match r {
        Err(SafetyError::InvalidItem { item, field, .. }) => {
            prop_assert!(item.contains(item_part), "item `{}`", item);
            prop_assert_eq!(field, field_name);
            Ok(())
        }
        other => Err(TestCaseError::fail(format!(
            "expected an InvalidItem `{field_name}` of `{item_part}`, got {other:?}"
        ))),
    }
}

// ---------------------------------------------------------------------------
// Fixtures: valid inputs of every model.

fn pool_fire(radiation: PoolFireRadiation) -> PoolFire {
    PoolFire {
        diameter_m: 10.0,
        heat_of_combustion_j_per_kg: 43.7e6,
        burning_rate: BurningRate::Given { kg_per_m2_s: 0.055 },
        flame_length: FlameLength::ThomasStillAir,
        tilt: FlameTilt::Vertical,
        wind_speed_m_per_s: 2.0,
        radiation,
        air_density_kg_per_m3: 1.2,
        transmissivity: Transmissivity::Bagster {
            relative_humidity: 0.7,
            ambient_temperature_k: 293.15,
        },
    }
}

fn pool_fires() -> Vec<PoolFire> {
    vec![
        pool_fire(PoolFireRadiation::PointSource {
            radiative_fraction: 0.35,
        }),
        pool_fire(PoolFireRadiation::SolidFlame {
            sep: SurfaceEmissivePower::Mudan,
        }),
        PoolFire {
            tilt: FlameTilt::Aga,
            ..pool_fire(PoolFireRadiation::SolidFlame {
                sep: SurfaceEmissivePower::Mudan,
            })
        },
        pool_fire(PoolFireRadiation::ChineseSafetyEvaluation { efficiency: 0.24 }),
    ]
}

fn jet_fires() -> Vec<JetFire> {
    [
        JetSource::AtRelease,
        JetSource::Vertical {
            release_height_m: 5.0,
        },
    ]
    .into_iter()
    .map(|source| JetFire {
        mass_rate_kg_per_s: 2.0,
        heat_of_combustion_j_per_kg: 50e6,
        radiative_fraction: 0.2,
        source,
        transmissivity: Transmissivity::default(),
    })
    .collect()
}

fn ccps_fireball() -> Fireball {
    Fireball {
        mass_kg: 1000.0,
        model: FireballModel::Ccps {
            sep: FireballSep::FromPressure {
                vessel_pressure_pa: 1.5e6,
                heat_of_combustion_j_per_kg: 46.34e6,
            },
            transmissivity: Transmissivity::default(),
        },
    }
}

fn chinese_fireball() -> Fireball {
    Fireball {
        mass_kg: 1000.0,
        model: FireballModel::ChineseSafetyEvaluation { q0_w_per_m2: 270e3 },
    }
}

const CURVES: [BlastCurve; 4] = [
    BlastCurve::KinneyGraham1985,
    BlastCurve::KingeryBulmashSurface,
    BlastCurve::Sadovsky,
    BlastCurve::ChineseOverpressure,
];

fn explosion(curve: BlastCurve) -> VapourCloudExplosion {
    VapourCloudExplosion {
        tnt: TntEquivalence::Direct {
            tnt_mass_kg: 1000.0,
        },
        curve,
        ambient_pressure_pa: 101_325.0,
    }
}

fn plume() -> GaussianPlume {
    GaussianPlume {
        emission_rate_kg_per_s: 1.0,
        wind_speed_m_per_s: 2.0,
        stability: StabilityClass::D,
        terrain: Terrain::Rural,
        release_height_m: 0.0,
        receptor_height_m: 0.0,
    }
}

/// A propane vessel: a jet fire, a flash fire (directional) and an
/// explosion, cheap enough to prepare in every case.
fn scenario() -> Scenario {
    Scenario {
        id: "S1".into(),
        unit_id: "U".into(),
        substance: "丙烷".into(),
        substance_key: "lpg".into(),
        kind: ScenarioKind::Continuous10Min,
        equipment: Equipment::PressureVessel,
        x_m: 0.0,
        y_m: 0.0,
        frequency_per_year: 1e-5,
        mass_kg: 3000.0,
        release_rate_kg_s: 5.0,
        duration_s: 600.0,
        outcomes: vec![
            Outcome {
                kind: OutcomeKind::JetFire,
                probability: 0.2,
                model: OutcomeModel::JetFire {
                    mass_rate_kg_s: 5.0,
                    heat_of_combustion_j_per_kg: 46.34e6,
                    radiative_fraction: 0.3,
                    duration_s: 600.0,
                },
            },
            Outcome {
                kind: OutcomeKind::FlashFire,
                probability: 0.3,
                model: OutcomeModel::FlashFire {
                    cloud: Cloud::Continuous {
                        rate_kg_s: 5.0,
                        duration_s: 600.0,
                    },
                    lfl_kg_m3: 0.0385,
                },
            },
            Outcome {
                kind: OutcomeKind::Explosion,
                probability: 0.2,
                model: OutcomeModel::Explosion {
                    cloud: Cloud::Instantaneous { mass_kg: 1000.0 },
                    lfl_kg_m3: 0.0385,
                    heat_of_combustion_j_per_kg: 46.34e6,
                },
            },
        ],
        params: ScenarioParams::from_rules(QraRules::embedded()),
    }
}

fn weather() -> Weather {
    Weather::default_two_class_uniform(12).expect("12 sectors")
}

fn people(people: f64) -> Vec<PopulationPoint> {
    vec![PopulationPoint {
        id: "P".into(),
        x_m: 30.0,
        y_m: 0.0,
        people,
    }]
}

fn unit(quantity_t: f64) -> Unit {
    Unit {
        id: "U1".into(),
        name: None,
        kind: UnitKind::Storage,
        geometry: None,
        substances: vec![Substance {
            name: Some("液氯".into()),
            cas: Some("7782-50-5".into()),
            quantity_t,
            hazard_categories: vec![],
        }],
        processes: vec![],
    }
}

fn tnt_store(quantity_t: f64) -> Unit {
    Unit {
        id: "W1".into(),
        name: None,
        kind: UnitKind::Storage,
        geometry: None,
        substances: vec![Substance {
            name: Some("TNT".into()),
            cas: Some("118-96-7".into()),
            quantity_t,
            hazard_categories: vec![],
        }],
        processes: vec![],
    }
}

// ---------------------------------------------------------------------------
// Consequence models.

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Heat flux of every fire at a bad distance is refused; at 0 it is the
    /// model's largest flux, never less than nearby.
    #[test]
    fn fires_refuse_bad_distances_and_are_worst_at_zero(d in bad(), near in 1e-3f64..50.0) {
        for f in pool_fires() {
            refused(f.flux_at(d), "distance_m")?;
            let r = f.evaluate(&[]).expect("valid pool fire");
            refused(r.effect_at(d), "distance_m")?;
            prop_assert!(f.flux_at(0.0).expect("0 m") >= f.flux_at(near).expect("near") * (1.0 - 1e-12));
        }
        for j in jet_fires() {
            refused(j.flux_at(d), "distance_m")?;
            prop_assert!(j.flux_at(0.0).expect("0 m") >= j.flux_at(near).expect("near"));
        }
        let fb = ccps_fireball();
        refused(fb.flux_at(d), "distance_m")?;
        prop_assert!(fb.flux_at(0.0).expect("0 m") >= fb.flux_at(near).expect("near"));
        let r = fb.evaluate(&[]).expect("valid fireball");
        refused(r.probability_at(&ThermalProbit::TSAO_PERRY, d), "distance_m")?;
    }

    /// The Chinese fireball formula and the blast curves are singular at 0:
    /// 0 is refused with every bad distance.
    #[test]
    fn singular_models_refuse_zero(d in bad_or_zero()) {
        refused(chinese_fireball().flux_at(d), "distance_m")?;
        for c in CURVES {
            refused(explosion(c).overpressure_at(d), "distance_m")?;
            refused(c.overpressure_pa(d, 101_325.0, 4.52e6), "z")?;
        }
        let p = plume().evaluate(&[]).expect("valid plume");
        refused(p.effect_at(d), "distance_m")?;
        refused(p.concentration_at(d, 0.0, 1.5), "x_m")?;
        refused(p.half_width_m(d, 1e-5), "x_m")?;
    }

    /// Model inputs that are not physical are refused by `evaluate`.
    #[test]
    fn model_inputs_are_refused(v in bad_or_zero()) {
        let f = pool_fires()[0];
        refused(PoolFire { diameter_m: v, ..f }.evaluate(&[]), "diameter_m")?;
        refused(PoolFire { heat_of_combustion_j_per_kg: v, ..f }.evaluate(&[]), "heat_of_combustion_j_per_kg")?;
        refused(PoolFire { air_density_kg_per_m3: v, ..f }.evaluate(&[]), "air_density_kg_per_m3")?;
        refused(PoolFire { burning_rate: BurningRate::Given { kg_per_m2_s: v }, ..f }.evaluate(&[]), "burning_rate.kg_per_m2_s")?;
        refused(PoolFire::equivalent_diameter_m(v), "area_m2")?;
        let j = jet_fires()[0];
        refused(JetFire { mass_rate_kg_per_s: v, ..j }.evaluate(&[]), "mass_rate_kg_per_s")?;
        refused(JetFire { radiative_fraction: v, ..j }.evaluate(&[]), "radiative_fraction")?;
        refused(Fireball { mass_kg: v, ..ccps_fireball() }.evaluate(&[]), "mass_kg")?;
        refused(VapourCloudExplosion { tnt: TntEquivalence::Direct { tnt_mass_kg: v }, ..explosion(BlastCurve::Sadovsky) }.evaluate(&[]), "tnt.tnt_mass_kg")?;
        refused(VapourCloudExplosion { ambient_pressure_pa: v, ..explosion(BlastCurve::Sadovsky) }.evaluate(&[]), "ambient_pressure_pa")?;
        refused(GaussianPlume { emission_rate_kg_per_s: v, ..plume() }.evaluate(&[]), "emission_rate_kg_per_s")?;
        refused(GaussianPlume { wind_speed_m_per_s: v, ..plume() }.evaluate(&[]), "wind_speed_m_per_s")?;
        refused(chinese_damage_radii(v, 4.52e6, 101_325.0), "tnt_mass_kg")?;
        refused(BlastCurve::ChineseOverpressure.validity(v, 4.52e6), "ambient_pa")?;
        // The levels asked for.
        refused(f.evaluate(&[v]), "level")?;
        refused(j.evaluate(&[10_000.0, v]), "level")?;
        refused(explosion(BlastCurve::KinneyGraham1985).evaluate(&[v]), "level")?;
        refused(plume().evaluate(&[v]), "level")?;
        refused(ccps_fireball().evaluate(&[v]), "level")?;
    }

    /// The distance search refuses a bad level for every evaluated model.
    #[test]
    fn distance_to_refuses_bad_levels(level in bad_or_zero()) {
        let r = pool_fires()[1].evaluate(&[]).expect("valid");
        refused(r.distance_to(level), "level")?;
        let r = explosion(BlastCurve::KingeryBulmashSurface).evaluate(&[]).expect("valid");
        refused(r.distance_to(level), "level")?;
        let r = plume().evaluate(&[]).expect("valid");
        refused(r.distance_to(level), "level")?;
    }

    /// Plume coordinates: crosswind must be finite, heights ≥ 0.
    #[test]
    fn plume_coordinates_are_checked(v in non_finite(), h in negative()) {
        let p = plume().evaluate(&[]).expect("valid plume");
        refused(p.concentration_at(500.0, v, 1.5), "y_m")?;
        refused(p.concentration_at(500.0, 0.0, v), "z_m")?;
        refused(p.concentration_at(500.0, 0.0, h), "z_m")?;
        refused(p.half_width_m(500.0, v), "level_kg_per_m3")?;
        refused(briggs_sigmas(StabilityClass::F, Terrain::Urban, v), "x_m")?;
        refused(briggs_sigmas(StabilityClass::F, Terrain::Urban, h), "x_m")?;
        refused(plume_concentration(v, 2.0, 10.0, 5.0, 0.0, 0.0, 0.0), "q_kg_per_s")?;
        refused(plume_concentration(1.0, 2.0, h, 5.0, 0.0, 0.0, 0.0), "sigma_y_m")?;
        refused(plume_concentration(1.0, 2.0, 10.0, 5.0, v, 0.0, 0.0), "y_m")?;
        refused(plume_concentration(1.0, 2.0, 10.0, 5.0, 0.0, 0.0, h), "h_m")?;
        // σ at the source is 0 (documented).
        prop_assert_eq!(briggs_sigmas(StabilityClass::D, Terrain::Rural, 0.0).expect("0 m"), (0.0, 0.0));
    }

    /// Probits: a NaN, infinite or negative dose is refused, never P = 0; a
    /// zero dose is P = 0 (documented); a zero exposure is refused.
    #[test]
    fn probits_refuse_bad_doses(v in bad(), t in 1.0f64..3600.0) {
        for pr in [ThermalProbit::EISENBERG_1975, ThermalProbit::TSAO_PERRY, ThermalProbit::TNO_GREEN_BOOK] {
            refused(pr.probability(v, t), "flux_w_m2")?;
            refused(pr.probability(10_000.0, v), "exposure_s")?;
            refused(pr.probability(10_000.0, 0.0), "exposure_s")?;
            refused(pr.probit_value(v, t), "flux_w_m2")?;
            refused(ThermalProbit::dose(v, t), "flux_w_m2")?;
            refused(pr.flux_for_probability(0.5, v), "exposure_s")?;
            prop_assert_eq!(pr.probability(0.0, t).expect("zero flux"), 0.0);
        }
        for pr in [OverpressureProbit::LUNG_HAEMORRHAGE, OverpressureProbit::GLASS_BREAKAGE] {
            refused(pr.probability(v), "overpressure_pa")?;
            refused(pr.probit_value(v), "overpressure_pa")?;
            prop_assert_eq!(pr.probability(0.0).expect("zero overpressure"), 0.0);
        }
        let lp = LogProbit { a: -5.0, b: 1.0 };
        refused(lp.probability(v), "dose")?;
        refused(lp.probit(v), "dose")?;
        refused(lp.probit(0.0), "dose")?;
        // a may be negative, not NaN or infinite; b must be > 0.
        let a = if v.is_finite() { f64::NAN } else { v };
        refused(LogProbit { a, b: 1.0 }.probability(1.0), "probit.a")?;
        refused(LogProbit { a: 1.0, b: v }.probability(1.0), "probit.b")?;
        for tp in &ToxicProbitTable::embedded().probits {
            refused(tp.probability(v, t), "c_kg_per_m3")?;
            refused(tp.probability(1e-4, v), "exposure_s")?;
            refused(tp.probability(1e-4, 0.0), "exposure_s")?;
            refused(tp.dose(v, t), "c_kg_per_m3")?;
            refused(tp.to_unit(v), "c_kg_per_m3")?;
            refused(tp.from_unit(v), "value")?;
            refused(tp.concentration_for_probability(0.5, v), "exposure_s")?;
            prop_assert_eq!(tp.probability(0.0, t).expect("zero concentration"), 0.0);
        }
    }

    /// Φ and the probit↔probability conversions refuse non-finite input and
    /// probabilities outside (0, 1).
    #[test]
    fn normal_distribution_refuses_non_finite(z in non_finite(), p in prop_oneof![bad_or_zero(), 1.0f64..1e9]) {
        refused(normal_cdf(z), "z")?;
        refused(probability_from_probit(z), "probit")?;
        refused(probit_from_probability(p), "probability")?;
        refused(ThermalProbit::TSAO_PERRY.flux_for_probability(p, 20.0), "probability")?;
        refused(OverpressureProbit::LUNG_HAEMORRHAGE.overpressure_for_probability(p), "probability")?;
    }

    /// View factors and transmissivity refuse bad distances; at 0 they give
    /// their largest value (engulfment, no absorption).
    #[test]
    fn view_factors_and_transmissivity(v in bad(), near in 1e-3f64..100.0) {
        refused(vertical_cylinder(2.0, v), "s")?;
        refused(vertical_cylinder(v, 2.0), "h_over_r")?;
        refused(vertical_cylinder_max(2.0, v), "s")?;
        refused(sphere_facing(10.0, v), "distance_from_centre_m")?;
        refused(sphere_facing(v, 10.0), "diameter_m")?;
        refused(tilted_cylinder(5.0, 10.0, 0.5, v), "x_m")?;
        refused(tilted_cylinder(5.0, 10.0, v, 10.0), "tilt_rad")?;
        let t = Transmissivity::Bagster { relative_humidity: 0.7, ambient_temperature_k: 293.15 };
        refused(t.at(v), "path_length_m")?;
        refused(Transmissivity::water_vapour_pressure_pa(v, 293.15), "transmissivity.relative_humidity")?;
        refused(Transmissivity::water_vapour_pressure_pa(0.7, v), "transmissivity.ambient_temperature_k")?;
        let (fv0, fh0) = vertical_cylinder(2.0, 0.0).expect("0");
        let (fv, fh) = vertical_cylinder(2.0, near).expect("near");
        prop_assert!(fv0 >= fv && fh0 >= fh);
        prop_assert!(vertical_cylinder_max(2.0, 0.0).expect("0") >= vertical_cylinder_max(2.0, near).expect("near"));
        prop_assert!(sphere_facing(10.0, 0.0).expect("0") >= sphere_facing(10.0, near).expect("near"));
        let (tv0, th0) = tilted_cylinder(5.0, 10.0, 0.5, 0.0).expect("0");
        let (tv, th) = tilted_cylinder(5.0, 10.0, 0.5, near).expect("near");
        prop_assert!(tv0 >= tv && th0 >= th);
        prop_assert!(t.at(0.0).expect("0") >= t.at(near).expect("near"));
    }

    /// A threshold row with a bad value gives no concentration.
    #[test]
    fn thresholds_refuse_bad_values(v in bad_or_zero()) {
        let t = EffectThresholds::embedded();
        let rows = t.toxic_for("chlorine").expect("chlorine rows");
        let mut row = rows[0].clone();
        row.ppm = Some(v);
        row.mg_per_m3 = None;
        refused(row.kg_per_m3(), "ppm")?;
        row.ppm = None;
        row.mg_per_m3 = Some(v);
        refused(row.kg_per_m3(), "mg_per_m3")?;
    }
}

/// A mistyped set or substance is refused, not answered with no levels.
#[test]
fn unknown_threshold_sets_are_refused() {
    let t = EffectThresholds::embedded();
    assert!(matches!(
        t.thermal_levels("aloah"),
        Err(SafetyError::UnknownThresholdSet {
            kind: "thermal",
            ..
        })
    ));
    assert!(matches!(
        t.overpressure_levels("cn-people"),
        Err(SafetyError::UnknownThresholdSet {
            kind: "overpressure",
            ..
        })
    ));
    assert!(matches!(
        t.toxic_for("chlorin"),
        Err(SafetyError::UnknownSubstance(_))
    ));
}

/// Beyond the 100 km search the Chinese damage radii are unknown, not 0 m.
#[test]
fn damage_radii_beyond_range_are_refused() {
    let r = chinese_damage_radii(1e14, 4.52e6, 101_325.0);
    assert!(
        matches!(
            r,
            Err(SafetyError::BeyondRange {
                field: "serious_injury_m",
                ..
            })
        ),
        "{r:?}"
    );
    let ok = chinese_damage_radii(1000.0, 4.52e6, 101_325.0).unwrap();
    assert!(ok.serious_injury_m > 0.0 && ok.slight_injury_m > ok.serious_injury_m);
}

// ---------------------------------------------------------------------------
// QRA.

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// A NaN point is refused, never answered with the risk at 1 m.
    #[test]
    fn risk_at_refuses_bad_points(v in non_finite(), x in -500.0f64..500.0) {
        let s = [scenario()];
        let w = weather();
        let m = QraModel::new(&s, &w).expect("valid model");
        refused(m.risk_at(v, x), "x_m")?;
        refused(m.risk_at(x, v), "y_m")?;
        refused(m.parts_at(v, v), "x_m")?;
        refused(individual_risk_at(&s, &w, v, x), "x_m")?;
        refused(individual_risk_parts_at(&s, &w, x, v), "y_m")?;
    }

    /// At the release point itself (distance 0) the risk is the worst of the
    /// points around it within 1 m, never less.
    #[test]
    fn risk_at_the_release_point_is_not_less_than_nearby(r in 1e-3f64..1.0, theta in 0.0f64..std::f64::consts::TAU) {
        let s = [scenario()];
        let m = QraModel::new(&s, &weather()).expect("valid model");
        let at = m.risk_at(0.0, 0.0).expect("release point");
        let near = m.risk_at(r * theta.sin(), r * theta.cos()).expect("near");
        prop_assert!(at >= near * (1.0 - 1e-12), "{at} < {near}");
    }

    /// NaN, infinite or negative frequencies are errors naming the scenario
    /// and the field, never scenarios left out; 0 is no risk (documented).
    #[test]
    fn bad_frequencies_are_refused(f in bad()) {
        let mut s = scenario();
        s.frequency_per_year = f;
        let w = weather();
        refused_item(QraModel::new(std::slice::from_ref(&s), &w), "scenario `S1`", "frequency_per_year")?;
        refused_item(individual_risk_at(std::slice::from_ref(&s), &w, 50.0, 0.0), "S1", "frequency_per_year")?;
        refused_item(fn_curve(std::slice::from_ref(&s), &w, &people(10.0)), "S1", "frequency_per_year")?;
        s.frequency_per_year = 0.0;
        prop_assert_eq!(individual_risk_at(&[s], &w, 50.0, 0.0).expect("zero frequency"), 0.0);
    }

    /// Outcome probabilities outside [0, 1], or summing above 1, are refused.
    #[test]
    fn bad_outcome_probabilities_are_refused(p in prop_oneof![bad(), 1.0f64 + 1e-6..1e6], i in 0usize..3) {
        let mut s = scenario();
        s.outcomes[i].probability = p;
        refused_item(QraModel::new(&[s], &weather()), "outcome", "probability")?;
        let mut s = scenario();
        for o in &mut s.outcomes {
            o.probability = 0.5;
        }
        refused_item(QraModel::new(&[s], &weather()), "S1", "outcomes.probability (sum)")?;
    }

    /// Outcome physics inputs are refused with the scenario and outcome named.
    #[test]
    fn bad_outcome_inputs_are_refused(v in bad_or_zero()) {
        let mut s = scenario();
        s.outcomes[0].model = OutcomeModel::JetFire {
            mass_rate_kg_s: v,
            heat_of_combustion_j_per_kg: 46.34e6,
            radiative_fraction: 0.3,
            duration_s: 600.0,
        };
        refused_item(QraModel::new(&[s], &weather()), "outcome 0 (JetFire)", "mass_rate_kg_s")?;
        let mut s = scenario();
        s.outcomes[1].model = OutcomeModel::FlashFire {
            cloud: Cloud::Continuous { rate_kg_s: 5.0, duration_s: 600.0 },
            lfl_kg_m3: v,
        };
        refused_item(QraModel::new(&[s], &weather()), "outcome 1 (FlashFire)", "lfl_kg_m3")?;
        let mut s = scenario();
        s.x_m = if v.is_finite() { f64::NAN } else { v };
        refused_item(QraModel::new(&[s], &weather()), "S1", "x_m")?;
    }

    /// Weather: class probabilities outside [0, 1], bad wind speeds, bad
    /// rose entries and roses that do not sum to 1 are refused.
    #[test]
    fn bad_weather_is_refused(v in bad(), k in 0usize..12, scale in prop_oneof![0.0f64..0.999, 1.001f64..10.0]) {
        let s = [scenario()];
        let mut w = weather();
        w.classes[0].probability = v;
        refused_item(QraModel::new(&s, &w), "weather class `D5`", "probability")?;
        let mut w = weather();
        w.classes[0].probability = 1.0 + v.abs().min(1e300) + 1e-3;
        refused_item(QraModel::new(&s, &w), "weather class", "probability")?;
        let mut w = weather();
        w.classes[1].wind_speed_m_s = v;
        refused_item(QraModel::new(&s, &w), "weather class", "wind_speed_m_s")?;
        let mut w = weather();
        w.wind_rose[k] = v;
        refused_item(QraModel::new(&s, &w), &format!("wind rose sector {k}"), "frequency")?;
        let mut w = weather();
        w.wind_rose.iter_mut().for_each(|p| *p *= scale);
        refused(QraModel::new(&s, &w), "wind_rose (sum)")?;
        let mut w = weather();
        w.wind_rose = vec![0.25; 12];
        refused(fn_curve(&s, &w, &people(10.0)), "wind_rose (sum)")?;
        refused(w.sector_of(if v.is_finite() { f64::NAN } else { v }, 1.0), "dx")?;
    }

    /// NaN or negative people are refused, never counted as nobody (which
    /// makes any site "Acceptable"); 0 people add no deaths (documented).
    #[test]
    fn bad_population_is_refused(v in bad()) {
        let s = [scenario()];
        let w = weather();
        refused_item(fn_curve(&s, &w, &people(v)), "population point `P`", "people")?;
        let mut p = people(10.0);
        p[0].x_m = if v.is_finite() { f64::NAN } else { v };
        refused_item(fn_curve(&s, &w, &p), "population point", "x_m")?;
        let empty = fn_curve(&s, &w, &people(0.0)).expect("nobody there");
        prop_assert!(empty.points.is_empty());
        let crowd = fn_curve(&s, &w, &people(100.0)).expect("a crowd");
        prop_assert!(crowd.region >= empty.region);
    }

    /// Grids, levels and lookups of the risk field are checked.
    #[test]
    fn grids_and_levels_are_checked(v in bad_or_zero(), x in non_finite()) {
        let s = [scenario()];
        let w = weather();
        refused(auto_grid(&s, &w, v, 50), "min_level")?;
        let grid = GridSpec { x0_m: -100.0, y0_m: -100.0, cell_m: 10.0, nx: 20, ny: 20 };
        refused(individual_risk_field(&s, &w, &GridSpec { cell_m: v, ..grid }), "grid.cell_m")?;
        refused(individual_risk_field(&s, &w, &GridSpec { x0_m: x, ..grid }), "grid.x0_m")?;
        refused(individual_risk_field(&s, &w, &GridSpec { nx: 0, ..grid }), "grid.nx")?;
        let field = individual_risk_field(&s, &w, &grid).expect("valid grid");
        refused(field.value_at(x, 0.0), "x_m")?;
        refused(field.value_at(5_000.0, 0.0), "value_at")?;
        refused(risk_contours(&field, &[1e-6, v]), "level")?;
        let mut broken = field.clone();
        broken.values[7] = x;
        refused(risk_contours(&broken, &[1e-6]), "values")?;
    }

    /// The sector method refuses bad inputs; at r = 0 it is evaluated at
    /// 1 m, so it is never less than nearby.
    #[test]
    fn sector_method_is_checked(v in bad(), near in 1e-3f64..100.0) {
        refused(sector_fraction(50.0, v, 12), "r_m")?;
        refused(sector_fraction(v, 100.0, 12), "ecw_m")?;
        refused(sector_lethality(v, 50.0, 100.0, 12), "p_cl")?;
        refused(sector_lethality(0.5, v, 100.0, 12), "pi_m")?;
        refused(sector_lethality(0.5, 50.0, v, 12), "r_m")?;
        refused(sector_fraction(50.0, 100.0, 0), "n_sectors")?;
        refused(crosswind_integral(if v.is_finite() { f64::NAN } else { v }, 2.0, 30.0, 2.67), "y_cl")?;
        refused(crosswind_integral(7.0, 2.0, v, 2.67), "sigma_y_m")?;
        prop_assert!(sector_fraction(5.0, 0.0, 12).expect("0") >= sector_fraction(5.0, near, 12).expect("near"));
        prop_assert!(sector_lethality(0.8, 5.0, 0.0, 12).expect("0") >= sector_lethality(0.8, 5.0, near, 12).expect("near"));
    }

    /// Rule-table functions refuse bad numbers.
    #[test]
    fn rule_functions_are_checked(v in bad()) {
        let rules = QraRules::embedded();
        refused(rules.model.societal.upper.f_at(v), "n")?;
        refused(rules.model.societal.upper.f_at(0.0), "n")?;
        refused(rules.ignition.direct(false, riskmap_safety::qra::Reactivity::Average, true, v, 0.0), "mass_kg")?;
        refused(rules.ignition.direct(false, riskmap_safety::qra::Reactivity::Average, false, 0.0, v), "rate_kg_s")?;
        for c in [TargetClass::HighSensitivity, TargetClass::General3] {
            for st in [InstallationStatus::New, InstallationStatus::Existing] {
                refused(meets_ir_criterion(c, st, v), "ir_per_year")?;
            }
        }
        let crit = SizeCriterion { metric: SizeMetric::Population, class_1_min: 100.0, class_2_min: 30.0 };
        refused(crit.class_of(v), "population")?;
        refused(Weather::default_two_class_uniform(0), "n_sectors")?;
    }

    /// Unit inventories: a NaN or negative quantity, or a NaN release point,
    /// is refused naming the unit, never skipped as if empty; 0 t is nothing
    /// stored (documented: no scenario).
    #[test]
    fn bad_inventories_are_refused(v in bad()) {
        let rules = QraRules::embedded();
        let u = unit(v);
        refused_item(
            scenarios_for_units(&[UnitRelease { unit: &u, x_m: 0.0, y_m: 0.0 }], rules),
            "unit `U1` substance 0",
            "quantity_t",
        )?;
        let good = unit(10.0);
        let x = if v.is_finite() { f64::NAN } else { v };
        refused_item(
            scenarios_for_units(&[UnitRelease { unit: &good, x_m: x, y_m: 0.0 }], rules),
            "unit `U1`",
            "x_m",
        )?;
        let none = unit(0.0);
        let set = scenarios_for_units(&[UnitRelease { unit: &none, x_m: 0.0, y_m: 0.0 }], rules)
            .expect("0 t");
        prop_assert!(set.scenarios.is_empty());
        refused_item(explosive_consequence_zone(&[tnt_store(v)], rules), "unit `W1`", "quantity_t")?;
    }
}

/// An explosive store too large for the 100 km search has no radius, not the
/// search limit.
#[test]
fn explosive_zone_beyond_range_is_refused() {
    let rules = QraRules::embedded();
    let r = explosive_consequence_zone(&[tnt_store(1e9)], rules);
    assert!(
        matches!(
            r,
            Err(SafetyError::BeyondRange {
                field: "radius_m",
                ..
            })
        ),
        "{r:?}"
    );
    let z = explosive_consequence_zone(&[tnt_store(1.0)], rules)
        .unwrap()
        .unwrap();
    assert!(z.radius_m > 0.0);
}
