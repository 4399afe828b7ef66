//! The device leg's outcome at the authorization endpoint (RFC 6749 §4.1.2, §4.1.2.1; CAMARA ICM
//! "CSRF protection").

use super::{Finding, Verdict};
use crate::flow::{AuthorizeOutcome, AuthorizeRequest, FlowError};

const SUBJECT: &str = "authorization endpoint";

/// The provider redirected to the redirect_uri with a code and the state intact: exactly the
/// condition under which a client goes on to the token endpoint
/// ([`AuthorizeOutcome::code_to_continue`]), so the check and the flow cannot disagree.
pub fn redirected_with_code(outcome: &AuthorizeOutcome, request: &AuthorizeRequest) -> Verdict {
    match outcome.code_to_continue(request) {
        Ok(_) => Ok(()),
        Err(FlowError::Provider {
            step,
            expected,
            found,
        }) => Err(Finding::new(step, expected, found)),
        Err(other) => Err(Finding::new(SUBJECT, "a code", other.to_string())),
    }
}

/// The provider did not redirect to an unregistered or mismatched redirect_uri (RFC 6749
/// §4.1.2.1; CAMARA ICM Appendix A: "MUST NOT redirect").
pub fn not_redirected(outcome: &AuthorizeOutcome, request: &AuthorizeRequest) -> Verdict {
    if outcome.redirected {
        Err(Finding::new(
            SUBJECT,
            "an error page and no redirect",
            format!(
                "a redirect to {} ({})",
                request.redirect_uri,
                if outcome.code.is_some() {
                    "with a code"
                } else {
                    "with an error"
                }
            ),
        ))
    } else {
        Ok(())
    }
}

/// The provider refused the request: an error redirect or an error page, but no code.
pub fn refused(outcome: &AuthorizeOutcome) -> Verdict {
    if outcome.code.is_some() {
        Err(Finding::new(
            SUBJECT,
            "the request to be refused",
            "a redirect with a code",
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::{ClientRole, Login};
    use crate::secret::Secret;

    fn request() -> AuthorizeRequest {
        AuthorizeRequest {
            scope: vec!["openid".into()],
            state: "st-1".into(),
            nonce: "n-1".into(),
            pkce: None,
            extra: vec![],
            login: Login::Network,
            client: ClientRole::Main,
            redirect_uri: "https://app.example/cb".parse().unwrap(),
            request_object: None,
            device: crate::flow::Device::Profile,
            stop: crate::flow::StopAt::RedirectUri,
        }
    }

    fn outcome(redirected: bool, code: Option<&str>, state: Option<&str>) -> AuthorizeOutcome {
        AuthorizeOutcome {
            redirected,
            code: code.map(|c| Secret::new(c.to_owned())),
            state: state.map(str::to_owned),
            error: None,
            error_description: None,
            exchanges: vec![],
            stopped_at: None,
        }
    }

    #[test]
    fn a_code_counts_only_with_the_state_intact() {
        let r = request();
        for (o, expected) in [
            (outcome(true, Some("c"), Some("st-1")), Ok(())),
            (
                outcome(true, Some("c"), Some("st-2")),
                Err(
                    "authorization endpoint: expected state \"st-1\" returned intact, found \"st-2\"",
                ),
            ),
            (
                outcome(true, Some("c"), None),
                Err(
                    "authorization endpoint: expected state \"st-1\" returned intact, found no state",
                ),
            ),
            (
                outcome(false, None, None),
                Err(
                    "authorization endpoint: expected a redirect to the redirect_uri, found nothing without such a redirect",
                ),
            ),
        ] {
            let verdict = redirected_with_code(&o, &r).map_err(|f| f.to_string());
            assert_eq!(verdict, expected.map_err(str::to_owned));
        }
    }

    #[test]
    fn refusals_and_redirects() {
        let r = request();
        let with_code = outcome(true, Some("c"), Some("st-1"));
        let error_page = outcome(false, None, None);
        assert!(refused(&with_code).is_err());
        assert_eq!(refused(&error_page), Ok(()));
        assert_eq!(not_redirected(&error_page, &r), Ok(()));
        let finding = not_redirected(&with_code, &r).unwrap_err();
        assert_eq!(
            finding.found,
            "a redirect to https://app.example/cb (with a code)"
        );
    }
}
