//! The PhoneCheck provider's fault switches: each breaks one rule of the PhoneCheck family, so
//! that nvcert's PhoneCheck checks can be shown to catch it. Their names are a contract with the
//! harness (`nvcert serve --dialect idlayr-phonecheck-v0.1 --fault NAME`): never rename one.

super::super::fault::named_faults! {
    /// A named deviation from one PhoneCheck rule (see [`PhoneCheckFault::description`]).
    enum PhoneCheckFault, error UnknownPhoneCheckFault, family "PhoneCheck";
    TokenWithoutExpiry => "token-without-expiry",
        "token: the answer has no expires_in";
    TokenScopeMissing => "token-scope-missing",
        "token: the answer does not name the scope granted";
    CreatedNotAccepted => "created-not-accepted",
        "create check: a new check has status PENDING instead of ACCEPTED";
    CheckUrlOffHost => "check-url-off-host",
        "create check: _links.check_url points at a host other than the API's";
    MatchAlwaysTrue => "match-always-true",
        "result: match is true whatever number the device's line has";
    WrongStatusBeforeDeviceLeg => "wrong-status-before-device-leg",
        "result: a check read before its check_url was requested says COMPLETED";
    TtlIgnored => "ttl-ignored",
        "check_url: a check past its ttl can still complete";
    CheckUrlReusable => "check-url-reusable",
        "check_url: a check's URL completes again after its device leg";
    OtherClientCanRead => "other-client-can-read",
        "result: any client's token reads any client's check";
    TokenNotRequired => "token-not-required",
        "create check: a request without an access token creates a check";
    ScopeNotEnforced => "scope-not-enforced",
        "create check: a token without the phone_check scope creates a check";
    UnknownCheckFound => "unknown-check-found",
        "result: an unknown check_id gets 200 with a made-up ACCEPTED check";
    BadNumberAccepted => "bad-number-accepted",
        "create check: a phone_number that is not E.164 digits creates a check";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut names: Vec<&str> = PhoneCheckFault::ALL.iter().map(|f| f.name()).collect();
        for f in PhoneCheckFault::ALL {
            assert_eq!(f.name().parse::<PhoneCheckFault>(), Ok(*f));
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), PhoneCheckFault::ALL.len());
        let e = "nope".parse::<PhoneCheckFault>().unwrap_err().to_string();
        assert!(e.contains("match-always-true"), "{e}");
    }
}
