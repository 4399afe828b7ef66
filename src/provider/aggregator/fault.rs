//! The aggregator's fault switches: each breaks one rule of the channel-partner chain, so that
//! nvcert's aggregator checks can be shown to catch it. Their names are a contract with the
//! harness (`nvcert serve --aggregator --fault NAME`, all prefixed `aggregator-`): never rename
//! one. The operators behind the aggregator stay conformant whatever is set here.

super::super::fault::named_faults! {
    /// A named deviation from one rule of the aggregator chain (see
    /// [`AggregatorFault::description`]).
    enum AggregatorFault, error UnknownAggregatorFault, family "aggregator";
    RoutesWrongOperator => "aggregator-routes-wrong-operator",
        "telco finder: a device is sent to the other operator (A's device address to B and vice versa)";
    LeaksOperatorToken => "aggregator-leaks-operator-token",
        "token: the aggregator access token is a JWS whose payload carries the operator token and the MSISDN";
    DropsState => "aggregator-drops-state",
        "callback: the final redirect to the app carries the aggregator's own state instead of the app's";
    PassesTokenThrough => "aggregator-passes-token-through",
        "API: the app's Bearer (the aggregator token) is forwarded to the operator instead of the operator token";
    AcceptsOperatorCode => "aggregator-accepts-operator-code",
        "token: a code the aggregator did not issue is tried at the operators and, if redeemed there, wrapped into an aggregator token";
    AcceptsOperatorToken => "aggregator-accepts-operator-token",
        "API: an unknown Bearer is forwarded unchanged to the operators instead of being refused with 401";
    DropsCorrelator => "aggregator-drops-correlator",
        "API: forwarded answers lose their x-correlator header";
    RewrapsErrors => "aggregator-rewraps-errors",
        "API: operator error answers are replaced by 502 {\"error\":\"upstream\"} (not a CAMARA ErrorInfo)";
    UnknownDevice500 => "aggregator-unknown-device-500",
        "authorize: a device address no operator serves gets 500 instead of the documented access_denied redirect";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_are_unique_and_prefixed() {
        let mut names: Vec<&str> = AggregatorFault::ALL.iter().map(|f| f.name()).collect();
        for f in AggregatorFault::ALL {
            assert_eq!(f.name().parse::<AggregatorFault>(), Ok(*f));
            assert!(f.name().starts_with("aggregator-"), "{f}");
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), AggregatorFault::ALL.len());
        let e = "nope".parse::<AggregatorFault>().unwrap_err().to_string();
        assert!(e.contains("aggregator-drops-state"), "{e}");
    }
}
