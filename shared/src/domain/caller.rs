//! Who is asking: what the flows may record about a request (its client IP and user agent), and
//! the request's id for the logs. The HTTP layer fills it in; flows only read it.

#[derive(Clone, Debug, Default)]
pub struct Caller {
    pub request_id: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}
