//! Unit conversions the models and rule tables need.
//!
//! Everything in this crate's API is SI (m, s, kg, Pa, W/m², kg/m³). The
//! published probits and thresholds are not: they use ppm or mg/m³, minutes,
//! kW/m² or psi. These conversions are the only place those units appear.

/// Molar volume of an ideal gas at 25 °C and 101.325 kPa, in L/mol
/// (V_m = RT/p = 8.314462·298.15/101325 m³/mol). The convention of
/// AEGL/ERPG ppm values and of `consequence-models.md`.
pub const MOLAR_VOLUME_25C_L_PER_MOL: f64 = 24.465;

/// One pound-force per square inch, in Pa (exact by definition of the inch
/// and the pound).
pub const PSI_PA: f64 = 6_894.757_293_168;

/// Standard atmosphere, Pa.
pub const STANDARD_ATMOSPHERE_PA: f64 = 101_325.0;

/// Acceleration of gravity used by the fire models, m/s²: 9.81, the value of
/// the TNO Yellow Book and CCPS worked examples (standard gravity is 9.80665;
/// the difference is 0.03 %).
pub const GRAVITY_M_PER_S2: f64 = 9.81;

/// Volume fraction in ppm → mass concentration in kg/m³:
/// C = ppm · M / V_m · 10⁻⁶ (M in g/mol, V_m in L/mol gives mg/m³).
pub fn ppm_to_kg_per_m3(ppm: f64, molar_mass_g_per_mol: f64, molar_volume_l_per_mol: f64) -> f64 {
    ppm * molar_mass_g_per_mol / molar_volume_l_per_mol * 1e-6
}

/// Mass concentration in kg/m³ → ppm, the inverse of [`ppm_to_kg_per_m3`].
pub fn kg_per_m3_to_ppm(c: f64, molar_mass_g_per_mol: f64, molar_volume_l_per_mol: f64) -> f64 {
    c * 1e6 * molar_volume_l_per_mol / molar_mass_g_per_mol
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chlorine_ppm_round_trip() {
        // consequence-models.md §4.3: 1 ppm chlorine at 25 °C = 2.898 mg/m³
        // (70.906 / 24.465 = 2.8983).
        let c = ppm_to_kg_per_m3(1.0, 70.906, MOLAR_VOLUME_25C_L_PER_MOL);
        assert!((c * 1e6 - 2.8983).abs() < 1e-4);
        let back = kg_per_m3_to_ppm(c, 70.906, MOLAR_VOLUME_25C_L_PER_MOL);
        assert!((back - 1.0).abs() < 1e-12);
    }
}
