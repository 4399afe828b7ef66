//! Step definitions, one file per domain. Each step's doc quotes the phrasing it implements;
//! the phrasing follows CAMARA's test definitions so a CAMARA test author can read nvcert's
//! features, and nvcert can read theirs. A lint rule that reads one phrasing (`lint_…`) sits
//! beside its step; `suite::lint` walks the features and calls them.
//!
//! CAMARA's own vocabulary (testing ASSETs, legacy sends, Feature lines) is resolved by
//! `suite::camara_vocabulary`, shared with the lint.

/// Defines a cucumber step whose body returns a [`StepResult`](crate::suite::world::StepResult)
/// (so it can use `?`), registered as returning a
/// [`StepOutcome`](crate::suite::world::StepOutcome), which carries a failure to the collector as
/// a typed value rather than as text. Attributes and docs are kept as written.
macro_rules! step {
    (
        $(#[$attr:meta])*
        async fn $name:ident($world:ident: &mut NvWorld $(, $arg:ident: $ty:ident)* $(,)?) -> StepResult
        $body:block
    ) => {
        $(#[$attr])*
        async fn $name(
            $world: &mut NvWorld
            $(, $arg: $ty)*,
            #[step] gherkin_step: &cucumber::gherkin::Step,
        ) -> crate::suite::world::StepOutcome {
            async fn body($world: &mut NvWorld $(, $arg: $ty)*) -> StepResult $body
            // Every exchange the step sends is recorded for its scenario (see suite::record).
            match $world.recorder.clone() {
                Some(recorder) => {
                    recorder.begin_step(gherkin_step);
                    let result =
                        crate::exchange::observed(recorder.clone(), body($world $(, $arg)*)).await;
                    recorder.end_step();
                    result.into()
                }
                None => body($world $(, $arg)*).await.into(),
            }
        }
    };
    (
        $(#[$attr:meta])*
        fn $name:ident($world:ident: &mut NvWorld $(, $arg:ident: $ty:ident)* $(,)?) -> StepResult
        $body:block
    ) => {
        $(#[$attr])*
        fn $name($world: &mut NvWorld $(, $arg: $ty)*) -> crate::suite::world::StepOutcome {
            fn body($world: &mut NvWorld $(, $arg: $ty)*) -> StepResult $body
            body($world $(, $arg)*).into()
        }
    };
}

mod aggregator;
pub(super) mod auth;
pub(super) mod body;
pub(super) mod lines;
mod oidc;
mod operator;
mod phonecheck;
pub(crate) mod request;
pub(super) mod response;
pub(super) mod send;
