//! The load scenarios, in goose's vocabulary: a scenario is what one kind of user does over and
//! over; each protocol step is its own transaction, named as the step (`authorize`, `token`,
//! `verify`, `share`), so the reports show the steps separately.
//!
//! This file only registers: which steps a scenario runs, in which order. What a step does is in
//! `transactions.rs`.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use goose::prelude::{Scenario, Transaction, TransactionFunction};

use super::transactions::{self, LoadContext};

/// What each user of a load run does, iteration after iteration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScenarioKind {
    /// The device leg (authorize → code) and the token exchange with the profile's client
    /// authentication: private_key_jwt signing is on this path.
    TokenExchange,
    /// `POST /verify` with a token obtained per user and reused (or, with single-use tokens,
    /// authorize → token → verify each iteration).
    Verify,
    /// `GET /device-phone-number`, tokens as for [`ScenarioKind::Verify`].
    Share,
    /// authorize → token → verify → share, one fresh token per journey.
    Journey,
    /// IDlayr PhoneCheck: a token once per user, then create-check → check-url (device leg) →
    /// read-check each iteration (a PhoneCheck profile only).
    PhoneCheck,
}

/// One protocol step: one goose transaction, one row of the summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The device leg of the auth-code flow, up to the redirect carrying the code.
    Authorize,
    /// The code exchange at the token endpoint.
    Token,
    /// `POST /verify`.
    Verify,
    /// `GET /device-phone-number`.
    Share,
    /// PhoneCheck: `POST /checks` for the device's number.
    CreateCheck,
    /// PhoneCheck: the device's GET of the check URL, through every redirect.
    CheckUrl,
    /// PhoneCheck: `GET /checks/{check_id}`, COMPLETED with a match.
    ReadCheck,
}

impl Step {
    /// Every step, in protocol order.
    pub const ALL: [Step; 7] = [
        Step::Authorize,
        Step::Token,
        Step::Verify,
        Step::Share,
        Step::CreateCheck,
        Step::CheckUrl,
        Step::ReadCheck,
    ];

    /// The transaction (and request) name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Authorize => "authorize",
            Self::Token => "token",
            Self::Verify => "verify",
            Self::Share => "share",
            Self::CreateCheck => "create-check",
            Self::CheckUrl => "check-url",
            Self::ReadCheck => "read-check",
        }
    }
}

impl ScenarioKind {
    /// Every scenario, in the order `--help` lists them.
    pub const ALL: [ScenarioKind; 5] = [
        ScenarioKind::TokenExchange,
        ScenarioKind::Verify,
        ScenarioKind::Share,
        ScenarioKind::Journey,
        ScenarioKind::PhoneCheck,
    ];

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::TokenExchange => "token-exchange",
            Self::Verify => "verify",
            Self::Share => "share",
            Self::Journey => "journey",
            Self::PhoneCheck => "phonecheck",
        }
    }

    /// The steps one iteration runs, in order.
    pub fn steps(self, single_use_tokens: bool) -> &'static [Step] {
        use Step::{Authorize, Share, Token, Verify};
        match (self, single_use_tokens) {
            (Self::TokenExchange, _) => &[Authorize, Token],
            (Self::Verify, false) => &[Verify],
            (Self::Verify, true) => &[Authorize, Token, Verify],
            (Self::Share, false) => &[Share],
            (Self::Share, true) => &[Authorize, Token, Share],
            (Self::Journey, _) => &[Authorize, Token, Verify, Share],
            (Self::PhoneCheck, _) => &[Step::CreateCheck, Step::CheckUrl, Step::ReadCheck],
        }
    }

    /// The transactions a run reports, in order: the iteration's steps, preceded, where users
    /// obtain a reusable token, by the steps that obtain it (authorize and token with a device
    /// leg; token alone, counting reads of the profile's token source, without one).
    pub fn reported_steps(self, single_use_tokens: bool, device_leg: bool) -> &'static [Step] {
        use Step::{Authorize, Share, Token, Verify};
        match (self, single_use_tokens, device_leg) {
            (Self::Verify, false, true) => &[Authorize, Token, Verify],
            (Self::Verify, false, false) => &[Token, Verify],
            (Self::Share, false, true) => &[Authorize, Token, Share],
            (Self::Share, false, false) => &[Token, Share],
            _ => self.steps(single_use_tokens),
        }
    }

    /// Whether `--single-use-tokens` means anything here: only the API scenarios reuse tokens.
    pub fn takes_single_use_tokens(self) -> bool {
        matches!(self, Self::Verify | Self::Share)
    }
}

impl fmt::Display for ScenarioKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ScenarioKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|k| k.name()).collect();
                format!("expected one of {}, found {s:?}", names.join(", "))
            })
    }
}

/// The goose scenario for `ctx`: one transaction per step, sequenced in step order.
pub(crate) fn build(ctx: &Arc<LoadContext>) -> Scenario {
    let mut scenario = Scenario::new(ctx.kind.name());
    for (i, &step) in ctx.steps.iter().enumerate() {
        let ctx = Arc::clone(ctx);
        // goose calls this once per iteration; the Arc clone is what lets the future outlive the
        // borrow of the closure (goose's `TransactionFunction` ties it to the user only).
        let function: TransactionFunction = Arc::new(move |user| {
            let ctx = Arc::clone(&ctx);
            Box::pin(async move { transactions::run(&ctx, step, user).await })
        });
        scenario = scenario.register_transaction(
            Transaction::new(function)
                .set_name(step.name())
                .set_sequence(i + 1),
        );
    }
    scenario
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in ScenarioKind::ALL {
            assert_eq!(kind.name().parse::<ScenarioKind>(), Ok(kind));
        }
        let err = "verfy".parse::<ScenarioKind>().unwrap_err();
        assert!(
            err.contains("token-exchange, verify, share, journey"),
            "{err}"
        );
    }

    #[test]
    fn single_use_tokens_add_the_flow_before_the_call() {
        let names = |kind: ScenarioKind, single: bool| -> Vec<&str> {
            kind.steps(single).iter().map(|s| s.name()).collect()
        };
        assert_eq!(names(ScenarioKind::Verify, false), ["verify"]);
        assert_eq!(
            names(ScenarioKind::Verify, true),
            ["authorize", "token", "verify"]
        );
        assert_eq!(
            names(ScenarioKind::Journey, false),
            ["authorize", "token", "verify", "share"]
        );
    }

    #[test]
    fn reused_tokens_report_the_steps_that_obtain_them() {
        let names = |kind: ScenarioKind, single: bool, leg: bool| -> Vec<&str> {
            kind.reported_steps(single, leg)
                .iter()
                .map(|s| s.name())
                .collect()
        };
        assert_eq!(
            names(ScenarioKind::Verify, false, true),
            ["authorize", "token", "verify"]
        );
        assert_eq!(names(ScenarioKind::Share, false, false), ["token", "share"]);
        assert_eq!(
            names(ScenarioKind::TokenExchange, false, true),
            ["authorize", "token"]
        );
    }
}
