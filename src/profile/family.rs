//! Families of silent number verification nvcert certifies. CAMARA Number Verification (and its
//! operator dialects) is one; IDlayr's PhoneCheck, which verifies a number with checks created by
//! a server and completed by the device over mobile data, is another. A profile selects PhoneCheck
//! with `dialect = "idlayr-phonecheck-v0.1"`; the family decides which flows drive the provider,
//! which document judges it and which features apply.

/// A family of silent-verification APIs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Family {
    /// CAMARA Number Verification (the default).
    #[default]
    CamaraNv,
    /// IDlayr PhoneCheck v0.1.
    PhoneCheck,
}

/// The dialect name that selects the PhoneCheck family.
pub const PHONECHECK_DIALECT: &str = "idlayr-phonecheck-v0.1";

/// Where nvcert's PhoneCheck document lives, as messages name it.
pub const PHONECHECK_DOCUMENT_ORIGIN: &str = "specs/dialects/idlayr-phonecheck-v0.1.yaml";

/// nvcert's PhoneCheck API document (OpenAPI 3.0, written from IDlayr's integration guide).
pub const PHONECHECK_DOCUMENT: &str =
    include_str!("../../specs/dialects/idlayr-phonecheck-v0.1.yaml");

impl Family {
    /// Every family, CAMARA NV first (the order `nvcert list` lists their checks in).
    pub const ALL: [Self; 2] = [Self::CamaraNv, Self::PhoneCheck];

    /// The profile dialect that selects the family, when one must (CAMARA NV is the default).
    pub fn dialect(self) -> Option<&'static str> {
        match self {
            Self::CamaraNv => None,
            Self::PhoneCheck => Some(PHONECHECK_DIALECT),
        }
    }

    /// The family a dialect name selects, when it selects one other than CAMARA NV.
    pub fn of_dialect(name: &str) -> Option<Self> {
        (name == PHONECHECK_DIALECT).then_some(Self::PhoneCheck)
    }

    /// The family's name, as features are tagged (`@phonecheck`) and reasons name it.
    pub fn name(self) -> &'static str {
        match self {
            Self::CamaraNv => "camara-nv",
            Self::PhoneCheck => "phonecheck",
        }
    }

    /// How reports name the family.
    pub fn title(self) -> &'static str {
        match self {
            Self::CamaraNv => "CAMARA Number Verification",
            Self::PhoneCheck => "IDlayr PhoneCheck v0.1",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Profile;

    #[test]
    fn the_phonecheck_profile_selects_the_family_without_a_redirect_uri() {
        let p = Profile::embedded_phonecheck(&"http://127.0.0.1:4000".parse().unwrap()).unwrap();
        assert_eq!(p.family, Family::PhoneCheck);
        assert!(p.dialect.is_none() && p.endpoints.is_none());
        assert_eq!(p.api_root.as_str(), "http://127.0.0.1:4000/");
        assert!(p.other_client.is_some() && p.device_leg.is_some());
        let nv = Profile::embedded_reference(&"http://127.0.0.1:4000".parse().unwrap()).unwrap();
        assert_eq!(nv.family, Family::CamaraNv);
        assert_eq!(Family::of_dialect("orange-es-v0"), None);
        for family in Family::ALL {
            assert_eq!(
                family.dialect().and_then(Family::of_dialect),
                family.dialect().map(|_| family)
            );
        }
    }

    #[test]
    fn an_unknown_dialect_names_the_phonecheck_one_among_the_known() {
        let text = include_str!("../../fixtures/providers/idlayr-phonecheck.toml")
            .replace(PHONECHECK_DIALECT, "idlayr-phonecheck-v9");
        let e = Profile::from_toml(&text, "p.toml", std::path::Path::new("."))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("dialect") && e.contains(PHONECHECK_DIALECT),
            "{e}"
        );
    }
}
