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
