//! What DynamoDB's answers mean: failed conditions, cancelled transactions, throttling.

use super::*;

/// Throttling and DynamoDB's own passing failures are 503 with `Retry-After`; the rest is a 500.
/// The cause is kept for the log line, never shown to the client.
pub(super) fn sdk_error<E, R>(error: SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let passing = match &error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => true,
        SdkError::ServiceError(service) => matches!(
            service.err().code(),
            Some(
                "ProvisionedThroughputExceededException"
                    | "ThrottlingException"
                    | "RequestLimitExceeded"
                    | "InternalServerError"
                    | "ServiceUnavailable"
                    | "TransactionConflictException"
                    | "TransactionInProgressException"
            )
        ),
        _ => false,
    };
    let cause = DisplayErrorContext(&error).to_string();
    if passing {
        Error::Unavailable {
            retry_after: 1,
            cause: cause.into(),
        }
    } else {
        Error::internal(cause)
    }
}

/// Whether a conditional write failed because its condition did not hold: a domain outcome
/// (someone else got there first), never a service error.
pub(super) fn condition_failed<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> bool {
    error.as_service_error().and_then(|e| e.code()) == Some("ConditionalCheckFailedException")
}

pub(super) const CONDITION_FAILED: &str = "ConditionalCheckFailed";

/// Another transaction was touching one of the items at the same moment: try again.
pub(super) const TRANSACTION_CONFLICT: &str = "TransactionConflict";

/// The reason code of each item of a cancelled transaction (`"None"` for those that were fine).
pub(super) fn cancellation(
    error: &SdkError<TransactWriteItemsError, HttpResponse>,
) -> Option<Vec<&str>> {
    match error.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => Some(
            cancelled
                .cancellation_reasons()
                .iter()
                .map(|r| r.code().unwrap_or("None"))
                .collect(),
        ),
        _ => None,
    }
}

/// A short, growing, jittered pause before trying a contended write again.
pub(super) async fn back_off(attempt: usize) {
    let base = 10u64 << attempt.min(5);
    let jitter = rand::random::<u64>() % base;
    tokio::time::sleep(std::time::Duration::from_millis(base + jitter)).await;
}

pub(super) fn contended(what: &str) -> Error {
    Error::Unavailable {
        retry_after: 1,
        cause: format!("{what}: still contended after {MAX_ATTEMPTS} attempts").into(),
    }
}

/// Why a transaction was cancelled: each item's reason, in the order the items were given.
pub(super) struct Cancelled(pub(super) Vec<String>);

impl Cancelled {
    /// Whether the condition of the item at `index` failed.
    pub(super) fn failed(&self, index: usize) -> bool {
        self.0.get(index).is_some_and(|r| r == CONDITION_FAILED)
    }
}
