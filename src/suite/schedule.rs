//! The order scenarios start in. Scenarios that wait (an expired code or token waits out the
//! short-lived client's lifetime; CIBA polls wait the provider's interval) start first, so their
//! waits overlap with each other and with the rest of the suite instead of trailing it. Results
//! are still reported in file order (the collector sorts them).

use cucumber::gherkin::{Background, Feature, Scenario, Step};

/// Steps that sleep for seconds, as written in feature files (the regexes of their definitions
/// in `steps`, without the captures).
const WAITING_STEPS: &[&str] = &[
    // auth.rs (`AuthPlan::Expired`): the token is obtained, then its lifetime waited out.
    r#"the header "Authorization" is set to an expired access token"#,
    "the access token has expired",
    // oidc.rs: the short-lived client's code lifetime.
    "the code's lifetime has passed",
    // operator.rs: CIBA polling at the provider's interval.
    "the backend polls the token endpoint as instructed until tokens are issued",
];

/// Whether a step of `scenario`, or of the backgrounds before it, waits.
fn waits(background: &[Step], scenario: &Scenario) -> bool {
    background
        .iter()
        .chain(&scenario.steps)
        .any(|step| WAITING_STEPS.contains(&step.value.trim()))
}

fn steps(background: Option<&Background>) -> Vec<Step> {
    background.map(|b| b.steps.clone()).unwrap_or_default()
}

/// Puts waiting scenarios first: the features that have some, and within a feature (and each
/// of its rules) its waiting scenarios. Otherwise the order stays as written (stable sorts).
pub(super) fn waiting_first(features: &mut [Feature]) {
    for f in features.iter_mut() {
        let background = steps(f.background.as_ref());
        f.scenarios.sort_by_key(|s| !waits(&background, s));
        for rule in &mut f.rules {
            let mut background = background.clone();
            background.extend(steps(rule.background.as_ref()));
            rule.scenarios.sort_by_key(|s| !waits(&background, s));
        }
    }
    features.sort_by_cached_key(|f| !feature_waits(f));
}

fn feature_waits(f: &Feature) -> bool {
    let background = steps(f.background.as_ref());
    f.scenarios.iter().any(|s| waits(&background, s))
        || f.rules.iter().any(|rule| {
            let mut background = background.clone();
            background.extend(steps(rule.background.as_ref()));
            rule.scenarios.iter().any(|s| waits(&background, s))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cucumber::gherkin::GherkinEnv;

    fn parse(text: &str) -> Feature {
        Feature::parse(text, GherkinEnv::default()).expect("feature parses")
    }

    fn names(f: &Feature) -> Vec<&str> {
        f.scenarios.iter().map(|s| s.name.as_str()).collect()
    }

    #[test]
    fn waiting_scenarios_and_their_features_start_first() {
        let quick = parse(
            "Feature: quick\n  Scenario: q1\n    Given the request body is set to a valid request body\n",
        );
        let slow = parse(
            "Feature: slow\n\
             \x20 Scenario: s1\n    When the request \"phoneNumberVerify\" is sent\n\
             \x20 Scenario: s2\n    Given the header \"Authorization\" is set to an expired access token\n\
             \x20 Scenario: s3\n    When the code's lifetime has passed\n\
             \x20 Scenario: s4\n    When the request \"phoneNumberShare\" is sent\n",
        );
        let mut features = vec![quick, slow];
        waiting_first(&mut features);
        assert_eq!(features[0].name, "slow");
        assert_eq!(names(&features[0]), ["s2", "s3", "s1", "s4"]);
        assert_eq!(names(&features[1]), ["q1"]);
    }

    #[test]
    fn every_waiting_step_is_a_step_definition() {
        // A text here that is not exactly a definition's pattern would never be recognised.
        let definitions = [
            include_str!("steps/auth.rs"),
            include_str!("steps/oidc.rs"),
            include_str!("steps/operator.rs"),
        ]
        .concat();
        for text in WAITING_STEPS {
            assert!(
                definitions.contains(&format!("regex = r\"^{text}$\""))
                    || definitions.contains(&format!("regex = r#\"^{text}$\"#")),
                "no step definition has the pattern {text:?}"
            );
        }
    }
}
